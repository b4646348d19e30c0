"""`ringtui users import FILE` through the CLI: happy path, every bad line, --skip-invalid, rights."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from ringtui import db as ringtui_db
from ringtui.models import PhoneNumber
from tests.conftest import ADMIN, ok, refused

PARIS_1, PARIS_2, PARIS_3 = "+33123456789", "+33123456780", "+33987654321"
MADRID = "+34911234567"
PORTING = "+33123456781"


@pytest.fixture
def numbers(account, db_url: str):
    """The account owns four available numbers and one still being ported in; returns the CLI."""
    with Session(ringtui_db.engine_for(db_url)) as db:
        for e164, country in ((PARIS_1, "FR"), (PARIS_2, "FR"), (PARIS_3, "FR"), (MADRID, "ES")):
            db.add(PhoneNumber(e164=e164, country=country, format="national", status="available"))
        db.add(PhoneNumber(e164=PORTING, country="FR", format="national", status="porting"))
        db.commit()
    return account


@pytest.fixture
def groups(numbers):
    for name in ("Sales", "Support"):
        ok(numbers("groups", "create", name))
    return numbers


@pytest.fixture
def csv_file(tmp_path: Path):
    def write(content: str, name: str = "users.csv") -> str:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        return str(path)

    return write


def audit_actions(db_url: str) -> list[tuple[str, str]]:
    with ringtui_db.engine_for(db_url).connect() as connection:
        rows = connection.execute(text("SELECT action, target FROM audit_entry ORDER BY id")).all()
    return [(action, target) for action, target in rows]


def users_by_email(cli) -> dict[str, dict]:
    return {u["email"]: u for u in ok(cli("users", "list", "--json")).json()}


# ---------------------------------------------------------------- happy path


def test_import_creates_users_with_roles_groups_and_numbers(groups, csv_file, db_url):
    path = csv_file(
        "Email,First_Name,LAST_NAME,role,number,groups\n"
        "Ana@Acme.test,Ana,Diaz,Supervisor,01 23 45 67 89,Sales; Support\n"
        "\n"
        "bob@acme.test,Bob,Martin,,+34 911 23 45 67,Support\n"
        "cyd@acme.test,,,,,\n")
    result = ok(groups("users", "import", path, "--json")).json()
    assert result == {"file": path, "imported": 3, "invalid": [], "groups_joined": 3, "numbers_assigned": 2}
    users = users_by_email(groups)
    ana, bob, cyd = users["ana@acme.test"], users["bob@acme.test"], users["cyd@acme.test"]
    assert (ana["first_name"], ana["last_name"], ana["role"], ana["status"]) == ("Ana", "Diaz", "supervisor",
                                                                                 "invited")
    assert (ana["groups"], ana["numbers"]) == (["Sales", "Support"], [PARIS_1])
    assert (bob["groups"], bob["numbers"], bob["role"]) == (["Support"], [MADRID], "none")
    assert (cyd["groups"], cyd["numbers"], cyd["license"]) == ([], [], "business")
    counts = {g["name"]: g["member_count"] for g in ok(groups("groups", "list", "--json")).json()}
    assert counts == {"Sales": 1, "Support": 2}
    actions = audit_actions(db_url)
    assert actions.count(("user.add", "ana@acme.test")) == 1
    assert [a for a, _ in actions].count("user.add") == 3
    assert actions[-1] == ("users.import", "users.csv")


def test_imported_users_get_distinct_sip_accounts(account, csv_file):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "import", csv_file("email\nana@other.test\nana@third.test\n")))
    names = {ok(account("users", "sip-credentials", email, "--json")).json()["username"]
             for email in ("ana@acme.test", "ana@other.test", "ana@third.test")}
    assert len(names) == 3


def test_optional_license_column_and_human_output(account, csv_file):
    result = ok(account("users", "import", csv_file("email,license\nana@acme.test,Advanced\n")))
    assert "Imported 1 user(s); 0 bad line(s)" in result.stderr
    assert users_by_email(account)["ana@acme.test"]["license"] == "advanced"


def test_technical_user_imports_users_without_roles(account, csv_file):
    ok(account("users", "add", "tech@acme.test", "--role", "technical"))
    ok(account("users", "import", csv_file("email,role\nana@acme.test,none\nbob@acme.test,\n"),
               as_user="tech@acme.test"))
    assert {"ana@acme.test", "bob@acme.test"} <= set(users_by_email(account))


# ---------------------------------------------------------------- all or nothing

BAD_FILE = (
    "email,first_name,last_name,role,number,groups\n"   # 1
    "good1@acme.test,Good,One,,01 23 45 67 80,Sales\n"   # 2 good
    "not-an-email,,,,,\n"                                # 3 invalid e-mail
    "dup@acme.test,,,,,\n"                               # 4 duplicate of 5
    "DUP@acme.test,,,,,\n"                               # 5 duplicate of 4
    "boss@acme.test,,,,,\n"                              # 6 already a user
    "role@acme.test,,,boss,,\n"                          # 7 unknown role
    "grp@acme.test,,,,,Sales;Nope\n"                     # 8 unknown group
    "num@acme.test,,,,0123,\n"                           # 9 invalid number
    "away@acme.test,,,,+33 1 99 99 99 99,\n"             # 10 not the account's
    "taken@acme.test,,,,01 23 45 67 89,\n"               # 11 assigned to ana
    "twice1@acme.test,,,,09 87 65 43 21,\n"              # 12 number also on 13
    "twice2@acme.test,,,,+33987654321,\n"                # 13 number also on 12
    "port@acme.test,,,,01 23 45 67 81,\n"                # 14 still porting
    "wide@acme.test,a,b,,,,extra\n"                      # 15 too many cells
    f"long@acme.test,{'x' * 101},,,,\n"                  # 16 name too long
    "good2@acme.test,Good,Two,technical,,Support\n"      # 17 good
)

EXPECTED_PROBLEMS = {
    3: "invalid e-mail address 'not-an-email'",
    4: "e-mail dup@acme.test is also on line 5",
    5: "e-mail dup@acme.test is also on line 4",
    6: "boss@acme.test is already a user",
    7: "unknown role 'boss'",
    8: "unknown group 'Nope'",
    9: "'0123' is not a valid phone number",
    10: "+33199999999 is not one of the account's numbers",
    11: "+33123456789 is already assigned to user ana@acme.test",
    12: "number +33987654321 is also on line 13",
    13: "number +33987654321 is also on line 12",
    14: "+33123456781 is still being ported in",
    15: "7 cells but the header has 6 columns",
    16: "first_name 'xxx",
}


@pytest.fixture
def bad_file(groups, csv_file) -> str:
    ok(groups("users", "add", "ana@acme.test", "--number", PARIS_1))
    return csv_file(BAD_FILE)


def test_one_bad_line_refuses_the_whole_file_and_reports_every_bad_line(groups, bad_file, unchanged):
    with unchanged():
        result = refused(groups("users", "import", bad_file), "14 bad line(s), nothing was imported",
                         "--skip-invalid",
                         *(f"line {line}: {message}" for line, message in EXPECTED_PROBLEMS.items()))
    assert "line 2:" not in result.stderr and "line 17:" not in result.stderr
    assert "good1@acme.test" not in users_by_email(groups)


def test_skip_invalid_imports_the_good_lines_and_reports_the_rest(groups, bad_file, db_url):
    result = ok(groups("users", "import", bad_file, "--skip-invalid", "--json"))
    document = result.json()
    assert document["imported"] == 2
    assert [line for line, _ in document["invalid"]] == sorted(EXPECTED_PROBLEMS)
    for line, message in document["invalid"]:
        assert EXPECTED_PROBLEMS[line] in message
        assert f"line {line}: " in result.stderr
    users = users_by_email(groups)
    assert set(users) == {ADMIN, "ana@acme.test", "good1@acme.test", "good2@acme.test"}
    assert (users["good1@acme.test"]["numbers"], users["good1@acme.test"]["groups"]) == ([PARIS_2], ["Sales"])
    assert users["good2@acme.test"]["role"] == "technical"
    # the number both line 12 and 13 wanted stays free
    ok(groups("users", "add", "late@acme.test", "--number", PARIS_3))
    assert [t for a, t in audit_actions(db_url) if a == "user.add"][-3:] == [
        "good1@acme.test", "good2@acme.test", "late@acme.test"]


def test_skip_invalid_with_only_bad_lines_changes_nothing(account, csv_file, unchanged):
    path = csv_file("email,role\nnope,\nx@acme.test,boss\n")
    with unchanged():
        result = ok(account("users", "import", path, "--skip-invalid", "--json"))
    assert result.json()["imported"] == 0
    assert [line for line, _ in result.json()["invalid"]] == [2, 3]


def test_line_numbers_count_lines_inside_quoted_cells(account, csv_file, unchanged):
    path = csv_file('email,first_name\nbad-one,"Ana\nMaria"\n\nbad-two,\n')
    with unchanged():
        result = refused(account("users", "import", path), "line 2: invalid e-mail address 'bad-one'",
                         "line 5: invalid e-mail address 'bad-two'")
    assert "line 3:" not in result.stderr


# ---------------------------------------------------------------- rights


def test_an_admin_may_not_import_admins(account, csv_file, unchanged):
    ok(account("users", "add", "adm@acme.test", "--role", "admin"))
    path = csv_file("email,role\nana@acme.test,supervisor\nbob@acme.test,admin\n")
    with unchanged():
        refused(account("users", "import", path, as_user="adm@acme.test"),
                "line 3: role 'admin' refused", "only the super admin grants the admin role")


def test_the_super_admin_imports_admins(account, csv_file):
    ok(account("users", "import", csv_file("email,role\nbob@acme.test,admin\n")))
    assert users_by_email(account)["bob@acme.test"]["role"] == "admin"


def test_technical_user_may_not_grant_roles(account, csv_file, unchanged):
    ok(account("users", "add", "tech@acme.test", "--role", "technical"))
    path = csv_file("email,role\nana@acme.test,supervisor\nbob@acme.test,super_admin\n")
    with unchanged():
        refused(account("users", "import", path, as_user="tech@acme.test"),
                "line 2: role 'supervisor' refused", "only an admin or the super admin",
                "line 3: role 'super_admin' refused")


def test_supervisor_may_not_import(account, csv_file, unchanged):
    ok(account("users", "add", "sup@acme.test", "--role", "supervisor"))
    with unchanged():
        refused(account("users", "import", csv_file("email\nana@acme.test\n"), as_user="sup@acme.test"),
                "sup@acme.test", "configuration")


# ---------------------------------------------------------------- the file itself


@pytest.mark.parametrize(("content", "fragments"), [
    ("", ("is empty", "email,first_name,last_name,role,number,groups")),
    ("\n\n", ("is empty",)),
    ("email,first_name\n", ("has a header but no users",)),
    ("ana@acme.test,Ana\nbob@acme.test,Bob\n", ("has no header", "line 1 looks like a user")),
    ("first_name,last_name\nAna,Diaz\n", ("line 1", "no email column")),
    ("email,phone,Team\nana@acme.test,,\n", ("unknown column(s) 'phone', 'Team'", "groups")),
    ("email,Email\nana@acme.test,ana@acme.test\n", ("email given more than once",)),
])
def test_a_file_without_users_or_with_a_bad_header_is_refused(
    account, csv_file, unchanged, content, fragments
):
    path = csv_file(content)
    with unchanged():
        refused(account("users", "import", path), path, *fragments)


def test_missing_and_non_utf8_files_are_refused(account, csv_file, tmp_path, unchanged):
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("email,first_name\nana@acme.test,Jos\xe9\n".encode("latin-1"))
    with unchanged():
        refused(account("users", "import", str(tmp_path / "missing.csv")), "missing.csv", "no such file")
        refused(account("users", "import", str(latin)), "latin1.csv", "not UTF-8")


# ---------------------------------------------------------------- a number taken during the import


@pytest.fixture
def number_taken_mid_import(numbers, db_url: str):
    """A trigger that assigns PARIS_2 elsewhere as soon as users are inserted: the same effect as
    another administrator assigning it between the import's check and its write."""
    steal = ("UPDATE phone_number SET status = 'assigned', assigned_kind = 'conference' "
             f"WHERE e164 = '{PARIS_2}'")
    engine = ringtui_db.engine_for(db_url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text(f"CREATE TRIGGER steal AFTER INSERT ON app_user BEGIN {steal}; END"))
        else:
            connection.execute(text(f"CREATE FUNCTION steal() RETURNS trigger LANGUAGE plpgsql AS "
                                    f"$$ BEGIN {steal}; RETURN NULL; END $$"))
            connection.execute(text("CREATE TRIGGER steal AFTER INSERT ON app_user "
                                    "FOR EACH STATEMENT EXECUTE FUNCTION steal()"))
    yield numbers
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER steal" + ("" if engine.dialect.name == "sqlite"
                                                        else " ON app_user")))
        if engine.dialect.name != "sqlite":
            connection.execute(text("DROP FUNCTION steal()"))


def test_a_number_taken_during_the_import_refuses_it_all(number_taken_mid_import, csv_file, unchanged):
    path = csv_file(f"email,number\nana@acme.test,{PARIS_1}\nbob@acme.test,{PARIS_2}\n")
    with unchanged():
        refused(number_taken_mid_import("users", "import", path),
                PARIS_2, "someone else", "nothing was imported")
