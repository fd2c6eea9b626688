"""« Prévisions et effectifs » (supervisors): the forecast with its interval and the agents needed per
interval, its chart and data tables, its CSV export; access per role as the « Bilan »."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("username, allowed", [("superviseur", True), ("operateur", False),
                                               ("expert-impots", False), ("redacteur", False)])
def test_the_page_and_its_csv_are_for_supervisors(imported, client, username, allowed):
    from allo.accounts.models import User

    client.force_login(User.objects.get(username=username))
    page = client.get("/supervision/previsions/?du=2026-04-06&jours=7&file=n1")
    export = client.get("/supervision/previsions.csv?du=2026-04-06&jours=7&file=n1")
    if not allowed:
        assert page.status_code == 403 and export.status_code == 403
        return
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and 'role="img"' in html
    assert 'aria-labelledby="previsions-titre-graphique"' in html and 'id="previsions-titre-graphique"' in html
    assert "Appris de l'historique du 2 mars 2026 au 3 avril 2026" in html
    assert "lundi 6 avril (jour férié)</th><td colspan=\"5\">Aucun appel attendu" in html  # Easter Monday
    assert "<caption>lundi 13 avril 2026</caption>" not in html  # outside the 7 days
    assert "<caption>mercredi 8 avril 2026</caption>" in html
    assert "80 % des appels répondus en 20 s" in html and "Erlang A" in html
    rows = export.content.decode("utf-8-sig").splitlines()
    assert export["Content-Disposition"] == 'attachment; filename="previsions-2026-04-06-7j-n1.csv"'
    assert rows[0] == "start,expected,low,high,agents,scheduled,service_level,asa_s,abandon_rate,occupancy"
    assert len(rows) == 1 + 4 * 3  # Tuesday to Friday, 09:00-11:00: the data's hours only
    assert rows[1].startswith("2026-04-07T09:00+02:00,")
    for row in rows[1:]:
        start, expected, low, high, agents, scheduled, *_ = row.split(",")
        assert float(low) <= float(expected) <= float(high) and 0 < int(agents) <= int(scheduled)
    # the table per interval holds the same figures as the chart
    assert html.count("<th scope=\"row\">09:00</th>") == 4


def test_without_history_or_with_bad_input_the_page_says_so(login_as):
    client = login_as("superviseur")
    html = client.get("/supervision/previsions/").content.decode()
    assert "Pas de prévision" in html and "Aucun historique d&#x27;appels pour la ligne" in html
    html = client.get("/supervision/previsions/?jours=9&intervalle=7&file=nulle&du=hier").content.decode()
    for message in ("Date invalide", "Durée invalide : 1, 7 ou 14 jours.", "Intervalle invalide",
                    "File inconnue : « nulle »"):
        assert message in html
    export = client.get("/supervision/previsions.csv")
    assert export.status_code == 200 and export.content.decode("utf-8-sig").splitlines() == [
        "start,expected,low,high,agents,scheduled,service_level,asa_s,abandon_rate,occupancy"]


def test_the_page_is_refused_to_the_anonymous(client):
    assert client.get("/supervision/previsions/").status_code in (302, 403)
