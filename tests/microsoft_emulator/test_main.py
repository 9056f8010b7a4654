import subprocess
import sys

import pytest
import requests

from microsoft_emulator.__main__ import parse_arguments


def test_it_needs_a_state_file_to_persist(capsys):
    with pytest.raises(SystemExit) as exited:
        parse_arguments(["--persist"])
    assert exited.value.code == 2
    assert "--persist needs --state" in capsys.readouterr().err


@pytest.mark.parametrize("threads", ["0", "-3", "many"])
def test_it_refuses_a_thread_count_below_one(capsys, threads):
    with pytest.raises(SystemExit) as exited:
        parse_arguments(["--threads", threads])
    assert exited.value.code == 2
    assert "--threads" in capsys.readouterr().err


def test_it_serves_as_many_requests_at_once_as_it_is_told():
    assert parse_arguments(["--threads", "64"]).threads == 64
    assert parse_arguments([]).threads == 16


def test_it_serves_https_and_prints_its_ca_and_url(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "microsoft_emulator", "--port", "0", "--var-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        base = lines[0].split(" on ")[1].strip()
        ca = lines[3].split(":", 1)[1].strip()
        assert ca == str(tmp_path / "emulator" / "ca.pem")
        session = requests.Session()
        session.trust_env = False
        assert session.get(f"{base}/_emulator/state", verify=ca).json()["directories"] == []
    finally:
        process.terminate()
        process.wait(timeout=10)
