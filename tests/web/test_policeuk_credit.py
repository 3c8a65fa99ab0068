"""data.police.uk's values reach residents under the Open Government Licence, credited with each snapshot's date."""

from finder.config import ROOT


def test_the_about_page_credits_data_police_uk_under_the_ogl_with_each_snapshots_date(client):
    html = client.get("/about").get_data(as_text=True)
    credit = html[html.index('id="policeuk-licence"') :]
    credit = credit[: credit.index("</p>")]
    assert "data.police.uk" in credit and "Open Government Licence v3.0" in credit
    assert "March 2023" in credit and "9 March 2026" in credit


def test_the_credit_is_english_not_blank_on_a_page_whose_language_has_no_translation_of_it_yet(client):
    html = client.get("/about?lang=pl").get_data(as_text=True)
    credit = html[html.index('id="policeuk-licence"') :]
    assert "Open Government Licence v3.0" in credit[: credit.index("</p>")]


def test_the_readme_credits_data_police_uk_under_the_ogl_with_each_snapshots_date():
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Police data and its licence") :]
    section = section[: section.index("\n## ", 1)]
    assert "data.police.uk" in section and "Open Government Licence v3.0" in section
    assert "March 2023" in section and "9 March 2026" in section
