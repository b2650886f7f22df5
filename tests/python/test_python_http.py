"""The Python package's HTTP backends: gavel.Judge(model, backend=[URL]) against
`gavel judge --backend URL` on one real llama.cpp server (llama-server, built by
scripts/setup.sh, started here on 127.0.0.1 with the default small model, one slot, the server's
prompt cache off): the same records bit for bit, the same store keys, and a store shared
between the two. Bad backend arguments and a server that is not there raise with the native
message, which names the URL, option or variable at fault.

scripts/test.sh installs the package into build/python-site (GAVEL_PYTHONPATH) first.
"""
import pytest

from conftest import QWEN25, real_model
from http_util import free_port, llama_server
from test_python_package import (assert_pass_equal, gavel, read_jsonl, run_cli,  # noqa: F401
                                 shortest_llmbar_pairs, write_jsonl)


def test_backend_pairwise_equals_cli_on_llama_server(gavel, gavel_bin, tmp_path):  # noqa: F811
    model = real_model(QWEN25)
    pairs = shortest_llmbar_pairs(2)
    store = tmp_path / "cli.sqlite"
    with llama_server(model) as (url, _):
        run_cli(gavel_bin, "judge", "--backend", url, "--model", model, "--input",
                write_jsonl(tmp_path / "in.jsonl", pairs), "--out", tmp_path / "out.jsonl",
                "--store", store, "--no-progress")
        cli = read_jsonl(tmp_path / "out.jsonl")
        judge = gavel.Judge(model, backend=[url], concurrency=1)
        assert judge.backend == [url]
        assert judge.info.fingerprint.startswith("http:llama.cpp:"), judge.info.fingerprint
        single = judge.pairwise(pairs[0]["instruction"], pairs[0]["response_a"],
                                pairs[0]["response_b"], id=pairs[0]["id"])
        batch = judge.pairwise_batch(pairs, batch=2)
        # The command line's store answers the package: same keys, the stored numbers.
        shared = gavel.Judge(model, backend=url, store=store).pairwise_batch(pairs)
    assert [c["id"] for c in cli] == [p["id"] for p in pairs]
    for py, c in zip([single, *batch, *shared], [cli[0], *cli, *cli]):
        assert py.id == c["id"]
        assert py.key == c["key"]  # same fingerprint, protocol, rendered prompts, parameters
        assert_pass_equal(py.pass1, c["pass1"], True)
        assert_pass_equal(py.pass2, c["pass2"], False)
        assert py.p_text1 == c["p_text1"] and py.p_text2 == c["p_text2"]
    assert [r.cached for r in [single, *batch]] == [False] * 3
    assert all(r.cached for r in shared)


def test_backend_errors_raise_with_the_native_message(gavel):  # noqa: F811
    model = real_model(QWEN25)
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(gavel.GavelError, match=gone.replace(".", r"\.")):
        gavel.Judge(model, backend=[gone], retries=0, down_timeout=0.5, request_timeout=5)
    with pytest.raises(gavel.InvalidArgumentError, match="expected http"):
        gavel.Judge(model, backend="gpu1:8080")
    with pytest.raises(gavel.InvalidArgumentError, match="concurrency must be 1..1024, got 0"):
        gavel.Judge(model, backend=gone, concurrency=0)
    with pytest.raises(gavel.InvalidArgumentError, match="retries must be 0..100, got -1"):
        gavel.Judge(model, backend=gone, retries=-1)
    with pytest.raises(gavel.InvalidArgumentError, match="GAVEL_TEST_UNSET_KEY_VARIABLE"):
        gavel.Judge(model, backend=gone, backend_api_key_env="GAVEL_TEST_UNSET_KEY_VARIABLE")
    with pytest.raises(gavel.InvalidArgumentError, match="'no colon'.*expected 'Name: value'"):
        gavel.Judge(model, backend=gone, backend_headers=["no colon"])
    with pytest.raises(TypeError, match="give model= or tokenizer="):
        gavel.Judge(backend=gone)
    with pytest.raises(TypeError, match="give model .* or backend"):
        gavel.Judge()
    with pytest.raises(gavel.NotFoundError, match="no-such.gguf"):
        gavel.Judge(backend=gone, tokenizer="/nonexistent/no-such.gguf")
