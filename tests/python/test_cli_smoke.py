import subprocess


def test_help_lists_commands(gavel_bin):
    out = subprocess.run([str(gavel_bin), "--help"], capture_output=True, text=True, check=True)
    assert "gavel" in out.stdout


def test_unknown_command_fails(gavel_bin):
    r = subprocess.run([str(gavel_bin), "no-such-command"], capture_output=True, text=True)
    assert r.returncode != 0
