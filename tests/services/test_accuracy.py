"""Issue 26's accuracy report (scripts/accuracy.py), run on a small seeded sample of the real data."""

import importlib.util

from finder.config import ROOT


def _accuracy():
    spec = importlib.util.spec_from_file_location("accuracy", ROOT / "scripts" / "accuracy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_accuracy_report_names_each_classs_reference_and_is_reproducible(capsys):
    accuracy = _accuracy()
    first = accuracy.report(20, 7)
    assert first == accuracy.report(20, 7)  # seeded: the same sample, the same counts
    assert [row[0] for row in first] == [
        "Random London postcodes",
        "Random London points",
        "Points within 2 km outside London",
        "Points on the river",
        "Postcodes outside London",
        "Outward codes outside London",
        "Terminated postcodes",
    ]
    assert all(sum(row[2:]) == 20 and row[1] for row in first)
    river = next(row for row in first if row[0] == "Points on the river")
    assert "London_Borough_Excluding_MHW" in river[1]  # an independent reference: boroughs drawn to mean high water
    assert river[2] >= 18, river  # the Met and the nearest bank's borough, but for a near-bank point or two
    assert all("the finder's own tables only" in row[1] for row in first if row is not river)
    by_name = {row[0]: row for row in first}
    for name in ("Random London postcodes", "Postcodes outside London", "Outward codes outside London"):
        assert by_name[name][4] == 0, name  # never a wrong ward or force
    table = accuracy.main(["--sample", "5", "--seed", "1"])
    assert table == capsys.readouterr().out.rstrip("\n")
    assert "| Class | Checked against | Right | Says it cannot decide | Wrong | Right % |" in table
    assert table.count("\n| ") == 8  # the header and seven classes
