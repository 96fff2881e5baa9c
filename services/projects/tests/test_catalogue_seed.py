"""The catalogue as seed 003 writes it: every organisation mode the seed names per programme, each
default row carrying the sentence it comes from, and who applies (an enterprise-led 创新联合体).

The seed's lines are read from a copy committed beside this test (data/); when the seeds are
present beside the checkout (``../shared/seeds``, or ``SEEDS_DIR``) the copy is checked against
them too, so the catalogue cannot drift from the seed unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from projects.catalogue.seed import MODE_BASIS, SEED_MODE_WORDS

COPY = Path(__file__).parent / "data" / "seed_003_organisation_modes.txt"
REPO = Path(__file__).resolve().parents[3]
# The seed names its programmes in traditional characters; the catalogue's codes for them.
SEED_PROGRAMMES = {
    "央地協同專項": "major.central_local",
    "科技創新重大示范專項": "major.demonstration",
    "重點研發和成果轉化專項": "rd.key_rd_transfer",
    "重點產業鏈專項": "rd.industrial_chain",
    "科技戰略研究專項": "capacity.strategy",
    "科技人才培育專項": "capacity.talent",
    "科技合作交流專項": "capacity.cooperation",
    "政策引導類專項": "capacity.policy_guidance",
    "自然科學基金項目": "basic.nsf",
    "科研條件建設專項": "basic.research_conditions",
}
MAGNET = {"name": "磁体矫顽力", "unit": "kOe", "target": 25}


def _seed_files() -> list[Path]:
    dirs = [Path(os.environ["SEEDS_DIR"])] if os.environ.get("SEEDS_DIR") else []
    dirs.append(REPO.parent / "shared" / "seeds")
    return [f for d in dirs if d.is_dir() for f in sorted(d.glob("003_*.txt"))]


def combinations(text: str) -> dict[str, set[str]]:
    """Programme → the modes its own sentence in the seed names, read from the seed's lines."""
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        heading, _, sentence = line.partition("。")
        code = SEED_PROGRAMMES.get(heading.strip())
        if code is None:
            continue
        modes = {mode for word, mode in SEED_MODE_WORDS.items() if word in sentence}
        if modes:
            found.setdefault(code, set()).update(modes)
    return found


def test_every_catalogue_sentence_is_quoted_verbatim_from_seed_003() -> None:
    copies = [COPY.read_text(encoding="utf-8")] + [f.read_text(encoding="utf-8") for f in _seed_files()]
    for text in copies:
        missing = [b.programme for b in MODE_BASIS if b.quote not in text]
        assert missing == [], f"quotes not in the seed: {missing}"
    for b in MODE_BASIS:
        named = {mode for word, mode in SEED_MODE_WORDS.items() if word in b.quote}
        # The quote names each of the row's modes, or the row says how it reads a sentence naming none.
        assert set(b.modes) <= named or (not named and b.reading), b


def test_the_committed_copy_reads_as_the_seed_does() -> None:
    ours = combinations(COPY.read_text(encoding="utf-8"))
    assert ours["major.demonstration"] == {"unveiling", "horse_race", "directed"}
    assert ours["rd.key_rd_transfer"] == {"open_competition", "unveiling", "horse_race", "directed"}
    assert ours["rd.industrial_chain"] == {"unveiling", "directed"}
    assert ours["capacity.cooperation"] == {"open_competition", "case_by_case"}
    for seed in _seed_files():
        assert combinations(seed.read_text(encoding="utf-8")) == ours, seed


def _call_body(world: Any, code: str, mode: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if mode == "unveiling":
        extra["challenges"] = [{"id": "JB-1", "title": "榜单任务", "goals": [MAGNET], "reward_fen": 500_000}]
    elif mode == "horse_race":
        extra["challenges"] = [{"id": "SM-1", "title": "赛马任务", "goals": [MAGNET], "teams": 2}]
    return world.call_body(programme_code=code, organisation_mode=mode, title=f"{code} {mode}", **extra)


async def test_a_call_may_take_every_mode_seed_003_names_for_its_programme(world: Any) -> None:
    wanted = combinations(COPY.read_text(encoding="utf-8"))
    listed = (await world.client.get("/catalogue/programmes", headers=world.staff)).json()["items"]
    by_code = {p["code"]: p for p in listed}
    for code, modes in wanted.items():
        assert modes <= set(by_code[code]["organisation_modes"]), code
        quoted = {m for b in by_code[code]["seed_basis"] for m in b["modes"]}
        assert modes <= quoted and all(
            "内科资字〔2024〕75号" in b["where"] for b in by_code[code]["seed_basis"]
        )
        for mode in sorted(modes):
            r = await world.client.post("/calls", json=_call_body(world, code, mode), headers=world.staff)
            assert r.status_code == 201, (code, mode, r.text)
    # A mode the seed does not give the programme is still refused, with the ones it allows.
    r = await world.client.post(
        "/calls", json=_call_body(world, "rd.industrial_chain", "open_competition"), headers=world.staff
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "organisation_mode"
    assert (
        "揭榜挂帅" in r.json()["errors"][0]["message_zh"]
        or "unveiling" in r.json()["errors"][0]["message_zh"]
    )
    chain = by_code["rd.industrial_chain"]
    assert (chain["applicant_form"], chain["applicant_form_zh"]) == (
        "enterprise_led_consortium",
        "企业牵头组建的创新联合体",
    )


async def test_an_industrial_chain_application_comes_from_an_enterprise_led_consortium(world: Any) -> None:
    challenge = {"id": "JB-1", "title": "稀土永磁产业链攻关", "goals": [MAGNET], "reward_fen": 500_000}
    call = await world.call(
        programme_code="rd.industrial_chain", organisation_mode="unveiling", challenges=[challenge]
    )
    university = await world.team()
    enterprise = await world.team(await world.org(type="enterprise"))
    member = await world.org(type="university")
    await world.org_synced(member)
    members = {
        "name": "稀土永磁产业链创新联合体",
        "member_unit_ids": [member],
        "agreement": "联合体协议〔2027〕1号",
    }

    async def submit(team: dict[str, str], **fields: Any) -> Any:
        app = await world.draft(
            call["id"], team["person"], team["unit"], team["dept"], challenge_id="JB-1", **fields
        )
        return app, await world.act(
            app["id"], "submit", world.applicant(team["person"]), pledge_accepted=True
        )

    _, r = await submit(enterprise)
    assert r.status_code == 422 and [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("consortium", "required")
    ]
    assert "创新联合体" in r.json()["errors"][0]["message_zh"]
    _, r = await submit(university, consortium=members)
    assert r.status_code == 422 and [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("unit_id", "not_an_enterprise")
    ]
    stranger = "0190c0de-0000-7000-8000-000000000001"
    bad = members | {"member_unit_ids": [enterprise["unit"], stranger]}
    _, r = await submit(enterprise, consortium=bad)
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("consortium.member_unit_ids.0", "duplicate"),
        ("consortium.member_unit_ids.1", "unknown"),
    ]
    app, r = await submit(enterprise, consortium=members)
    assert r.status_code == 200 and r.json()["consortium"]["member_unit_ids"] == [member], r.text
    sealed = (await world.client.get(f"/applications/{app['id']}/versions", headers=world.staff)).json()
    assert sealed["items"][0]["content"]["consortium"]["name"] == "稀土永磁产业链创新联合体"
