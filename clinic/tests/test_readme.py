"""The README's demo logins table says what `make run` (seed_demo) prints."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_rows() -> dict[str, str]:
    """email -> the "who" cell, from the table under "## Demo logins"."""
    section = README.read_text(encoding="utf-8").split("## Demo logins", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| `([^`]+)` \|", section, flags=re.M)
    return {email: who for who, email in rows}


def seed_output() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_readme_demo_table_matches_what_the_seed_prints():
    printed = seed_output()
    people = dict(re.findall(r"^  (\S+@\S+)\s+(.+)$", printed, flags=re.M))
    rows = readme_rows()
    assert set(rows) == set(people)
    for email, line in people.items():
        who = rows[email]
        found = re.search(r"\((America/\w+); licensed in ([A-Z, -]+)\)", line)
        if found:  # a clinician or nurse: the same zone and licenses, in the printed order
            assert who in {
                f"{role} ({found.group(1)}; licensed in {found.group(2)})" for role in ("clinician", "nurse")
            }, email
        else:
            assert who in {"staff", "patient"}, email
    # A second run (make run again) prints the same.
    assert seed_output() == printed


def test_readme_states_the_demo_password_the_seed_uses():
    from clinic.portal.management.commands.seed_demo import DEMO_PASSWORD

    assert f"Every demo password is `{DEMO_PASSWORD}`" in README.read_text(encoding="utf-8")
