"""Settings precedence and the documented config.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ringtui.config import _KEYS, load_settings
from ringtui.errors import Invalid

ROOT = Path(__file__).resolve().parent.parent


def test_repository_config_documents_every_setting_with_its_default():
    document = tomllib.loads((ROOT / "config.toml").read_text())
    documented = {(section, key) for section, values in document.items() for key in values}
    assert documented == set(_KEYS)
    for (section, key), (_env, default) in _KEYS.items():
        assert document[section][key] == (default if default is not None else ""), (section, key)


def test_flag_beats_environment_beats_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///file.db"\n[sip]\ndomain = "pbx.example"\n')
    monkeypatch.setenv("RINGTUI_CONFIG", str(config))
    assert load_settings().database_url == "sqlite:///file.db"
    assert load_settings().sip_domain == "pbx.example"
    monkeypatch.setenv("RINGTUI_DATABASE_URL", "sqlite:///env.db")
    assert load_settings().database_url == "sqlite:///env.db"
    assert load_settings(database_url="sqlite:///flag.db").database_url == "sqlite:///flag.db"


def test_default_database_lives_in_the_user_data_directory(tmp_path: Path):
    assert load_settings().database_url == f"sqlite:///{tmp_path / 'xdg-data' / 'ringtui' / 'ringtui.db'}"


def test_missing_or_broken_config_file_is_named(tmp_path: Path):
    with pytest.raises(Invalid, match=r"nope\.toml"):
        load_settings(config_path=str(tmp_path / "nope.toml"))
    broken = tmp_path / "broken.toml"
    broken.write_text("[database\n")
    with pytest.raises(Invalid, match=r"broken\.toml"):
        load_settings(config_path=str(broken))


@pytest.mark.parametrize("url", ["foo://bar", "mysql://me@db.example/pbx", "not a url"])
def test_a_database_url_ringtui_cannot_use_is_named_with_the_accepted_forms(url: str):
    from typer.testing import CliRunner

    from ringtui.cli import app

    result = CliRunner().invoke(app, ["--db", url, "users", "list"])
    assert result.exit_code == 1
    assert repr(url) in result.output
    assert "sqlite:///PATH" in result.output and "postgresql+psycopg://" in result.output
    assert "Traceback" not in result.output
