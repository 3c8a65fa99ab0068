"""Geography: postcodes, wards and maps, built from open data; no Flask here."""
