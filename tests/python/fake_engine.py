"""A fake serving engine for the HTTP-backend tests: answers with the request and response shapes
of llama.cpp's llama-server, vLLM, SGLang, Ollama or a plain OpenAI-compatible server, as
documented (../shared/docs/http-backends.md), and injects faults on request.

Its "model" is a deterministic function of the token ids: the next-token log-probabilities are
log_softmax(N(0, 2.5) logits) drawn from a generator seeded by the SHA-256 of the ids
(`distribution`). Tokenization is llama.cpp's own (llama-cpp-python, vocab only), so tests can
compute every expected value independently of gavel. Generation is greedy over that function.

    python fake_engine.py --kind vllm --gguf M.gguf [--port 0] [--faults 3=500,5=garbage]

prints "PORT <n>" on stdout once it listens. Faults apply to the n-th POST to a model route
(/completion, /v1/completions, /generate, /api/generate), counted from 1:
  500, garbage (200 with a body that is not JSON), truncate (Content-Length says more than is
  sent, then the connection closes), close (no answer), slow:S (answer after S seconds),
  429:S (429 with Retry-After: S), 503.
Every handled model-route POST is appended to --log (one line: "<n> <path> <status>").
"""
import argparse
import hashlib
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from llama_cpp import Llama

MODEL_ROUTES = {"/completion", "/v1/completions", "/generate", "/api/generate"}


class Model:
    def __init__(self, gguf):
        self.llm = Llama(model_path=str(gguf), vocab_only=True, verbose=False)
        self.n_vocab = self.llm.n_vocab()
        self.eos = self.llm.token_eos()
        self.bos = self.llm.token_bos()
        self.add_bos = bool(self.llm._model.add_bos_token()) if hasattr(self.llm._model, "add_bos_token") else False

    def tokenize(self, text, add_bos=False):
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def piece(self, tid):
        return self.llm.detokenize([tid], special=True)

    def text(self, ids):
        return self.llm.detokenize(list(ids), special=False).decode("utf-8", errors="replace")


_FAVOURED = None


def favoured(n_vocab):
    """Token ids the fake model likes (+14 logits): the 95 printable one-byte ASCII tokens, so
    that labels such as A/B, digits and ' ' rank near the top, as with a real judge."""
    global _FAVOURED
    if _FAVOURED is None:
        _FAVOURED = np.array(sorted(MODEL.llm.tokenize(bytes([c]), add_bos=False, special=False)[0]
                                    for c in range(32, 127)), dtype=np.int64)
    return _FAVOURED


def distribution(ids, n_vocab):
    """Next-token log-probabilities after `ids` (the fake model)."""
    seed = hashlib.sha256(np.asarray(ids, dtype=np.int64).tobytes()).digest()
    rng = np.random.default_rng(int.from_bytes(seed[:8], "little"))
    logits = rng.normal(0.0, 2.5, size=n_vocab)
    logits[favoured(n_vocab)] += 14.0
    m = logits.max()
    return logits - (m + np.log(np.exp(logits - m).sum()))


def top(lp, k):
    idx = np.argsort(-lp, kind="stable")[:k]
    return [(int(i), float(lp[i])) for i in idx]


def greedy(ids, n, model, stop=()):
    """Greedy chain: (generated ids, text, finish) with finish in eos/length/stop."""
    ids = list(ids)
    out = []
    for _ in range(n):
        t = int(np.argmax(distribution(ids, model.n_vocab)))
        if t == model.eos:
            return out, model.text(out), "eos", None
        out.append(t)
        ids.append(t)
        text = model.text(out)
        for s in stop:
            at = text.find(s)
            if at >= 0:
                return out, text[:at], "stop", s
    return out, model.text(out), "length", None


MODEL = None  # the one Model of this process (favoured() needs its vocabulary)


class State:
    def __init__(self, args):
        global MODEL
        self.args = args
        self.model = MODEL = Model(args.gguf)
        self.lock = threading.Lock()
        self.count = 0
        self.faults = {}
        for part in filter(None, (args.faults or "").split(",")):
            n, action = part.split("=", 1)
            self.faults[int(n)] = action


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-engine/1"

    def log_message(self, *a):  # quiet
        pass

    # -- plumbing ---------------------------------------------------------------------------
    def reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def fault(self, action, body):
        data = json.dumps(body).encode()
        if action == "500":
            self.reply(500, {"error": {"code": 500, "message": "injected failure", "type": "server_error"}})
        elif action == "503":
            self.reply(503, {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})
        elif action == "garbage":
            self.reply(200, b"{\"content\": \"A\", \"completion_probabilities\": [{")
        elif action == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif action == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif action.startswith("429:"):
            self.reply(429, {"error": {"message": "rate limited", "type": "rate_limit_exceeded"}},
                       [("Retry-After", action.split(":", 1)[1])])
        elif action.startswith("slow:"):
            time.sleep(float(action.split(":", 1)[1]))
            try:
                self.reply(200, body)
            except OSError:
                pass
        else:
            raise ValueError(action)

    def do_GET(self):
        st = self.server.state
        no = self.refused()
        if no:
            return self.reply(*no)
        route = getattr(self, "get_" + st.args.kind.replace(".", "").replace("-", ""))
        status, body = route(self.path)
        self.reply(status, body if body is not None else b"")

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length", "0"))
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
        except json.JSONDecodeError:
            return self.reply(400, {"error": "body is not JSON"})
        no = self.refused()
        if no:
            return self.reply(*no)
        route = getattr(self, "post_" + st.args.kind.replace(".", "").replace("-", ""))
        model_route = self.path in MODEL_ROUTES
        if model_route:
            with st.lock:
                st.count += 1
                k = st.count
        status, body = route(self.path, req)
        action = st.faults.get(k) if model_route else None
        if action:
            self.fault(action, body)
        else:
            self.reply(status, body)
        if model_route and st.args.log:
            with st.lock, open(st.args.log, "a") as f:
                f.write(f"{k} {self.path} {action or status}\n")

    # -- shared pieces ----------------------------------------------------------------------
    def ids_of(self, prompt):
        m = self.server.state.model
        if isinstance(prompt, str):  # a server that adds a BOS to text prompts, on request
            return ([m.bos] if self.server.state.args.add_bos else []) + m.tokenize(prompt)
        return list(prompt)

    def refused(self):
        """401/400 when --api-key / --require-header are not met (None when they are)."""
        a = self.server.state.args
        if a.api_key and self.headers.get("Authorization") != "Bearer " + a.api_key:
            return 401, {"error": "Unauthorized"}
        if a.require_header:
            name, value = a.require_header.split(":", 1)
            if self.headers.get(name) != value:
                return 400, {"error": f"missing header {name}"}
        return None

    def alt(self, tid, lp):
        m = self.server.state.model
        b = m.piece(tid)
        return {"id": tid, "token": b.decode("utf-8", errors="ignore"), "bytes": list(b), "logprob": lp}

    def model_id(self):
        return self.server.state.args.model_id

    # -- llama.cpp --------------------------------------------------------------------------
    def get_llamacpp(self, path):
        a = self.server.state.args
        if path == "/health":
            return 200, {"status": "ok"}
        if path == "/props":
            return 200, {"default_generation_settings": {"n_ctx": a.ctx}, "total_slots": 1,
                         "model_path": "/models/" + self.model_id(), "build_info": "fake"}
        if path in ("/v1/models", "/models"):
            return 200, {"object": "list", "data": [{"id": self.model_id(), "object": "model", "owned_by": "llamacpp"}]}
        return 404, {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}}

    def post_llamacpp(self, path, req):
        m = self.server.state.model
        if path == "/tokenize":
            ids = m.tokenize(req["content"], add_bos=bool(req.get("add_special")) and m.add_bos)
            return 200, {"tokens": ids}
        if path != "/completion":
            return 404, {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}}
        ids = self.ids_of(req["prompt"])
        n_probs = int(req.get("n_probs", 0))
        n_predict = int(req.get("n_predict", -1))
        if n_predict == 1 and n_probs > 0:
            lp = distribution(ids, m.n_vocab)
            best = top(lp, min(n_probs, m.n_vocab))
            first = best[0][0]
            return 200, {"content": m.text([first]), "tokens": [first], "stop": True, "stop_type": "limit",
                         "tokens_evaluated": len(ids), "tokens_predicted": 1,
                         "completion_probabilities": [dict(self.alt(first, best[0][1]),
                                                           top_logprobs=[self.alt(i, v) for i, v in best])]}
        out, text, finish, word = greedy(ids, n_predict, m, req.get("stop") or [])
        return 200, {"content": text, "tokens": out, "stop": True,
                     "stop_type": {"eos": "eos", "length": "limit", "stop": "word"}[finish],
                     "stopping_word": word or "", "tokens_evaluated": len(ids), "tokens_predicted": len(out)}

    # -- vLLM -------------------------------------------------------------------------------
    def get_vllm(self, path):
        if path == "/health":
            return 200, None
        if path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": self.model_id(), "object": "model", "owned_by": "vllm",
                                                     "root": self.model_id(), "max_model_len": self.server.state.args.ctx}]}
        return 404, {"detail": "Not Found"}

    def post_vllm(self, path, req):
        m = self.server.state.model
        a = self.server.state.args
        if path == "/tokenize":
            ids = m.tokenize(req["prompt"], add_bos=bool(req.get("add_special_tokens", True)) and m.add_bos)
            return 200, {"count": len(ids), "max_model_len": a.ctx, "tokens": ids, "token_strs": None}
        if path != "/v1/completions":
            return 404, {"detail": "Not Found"}
        prompts = req["prompt"]
        if isinstance(prompts, list) and prompts and isinstance(prompts[0], list):
            batch = prompts
        else:
            batch = [prompts]
        choices = []
        for ci, p in enumerate(batch):
            ids = self.ids_of(p)
            if req.get("prompt_logprobs") is not None:
                # Only the last prompt position is computed; earlier ones hold the shape.
                plp = [None] + [{str(t): {"logprob": -1.0, "rank": 1, "decoded_token": ""}} for t in ids[1:-1]]
                lp = distribution(ids[:-1], m.n_vocab)
                last = ids[-1]
                rank = int((lp > lp[last]).sum()) + 1
                plp.append({str(last): {"logprob": float(lp[last]), "rank": rank, "decoded_token": m.text([last])}})
                first = top(distribution(ids, m.n_vocab), 1)[0]
                choices.append({"index": ci, "text": m.text([first[0]]), "logprobs": None, "finish_reason": "length",
                                "stop_reason": None, "prompt_logprobs": plp})
                continue
            k = req.get("logprobs")
            if k is not None and int(req.get("max_tokens", 16)) == 1:
                k = int(k)
                if k > 20:
                    return 400, {"error": {"message": f"Requested sample logprobs of {k}, which is greater than max allowed: 20",
                                           "type": "BadRequestError", "param": "logprobs", "code": 400}}
                lp = distribution(ids, m.n_vocab)
                best = top(lp, k + 1)
                first = best[0]
                want = req.get("logprob_token_ids") if a.vllm_token_ids else None
                entries = [first] + ([(int(t), float(lp[t])) for t in want] if want else best[1:k + 1] if k else [])
                d = {f"token_id:{t}": v for t, v in entries}
                choices.append({"index": ci, "text": m.text([first[0]]), "finish_reason": "length", "stop_reason": None,
                                "logprobs": {"text_offset": [0], "token_logprobs": [first[1]],
                                             "tokens": [f"token_id:{first[0]}"], "top_logprobs": [d]},
                                "prompt_logprobs": None})
                continue
            out, text, finish, word = greedy(ids, int(req.get("max_tokens", 16)), m, req.get("stop") or [])
            stop_reason = word if finish == "stop" else (m.eos if finish == "eos" else None)
            choices.append({"index": ci, "text": text, "logprobs": None,
                            "finish_reason": "length" if finish == "length" else "stop",
                            "stop_reason": stop_reason, "token_ids": out if req.get("return_token_ids") else None,
                            "prompt_token_ids": ids if req.get("return_token_ids") else None})
        return 200, {"id": "cmpl-fake", "object": "text_completion", "created": 0, "model": self.model_id(),
                     "choices": choices, "usage": {"prompt_tokens": len(self.ids_of(batch[0])), "completion_tokens": 1}}

    # -- SGLang -----------------------------------------------------------------------------
    def get_sglang(self, path):
        if path in ("/health", "/health_generate"):
            return 200, None
        if path == "/get_model_info":
            return 200, {"model_path": self.model_id(), "tokenizer_path": self.model_id(), "is_generation": True}
        if path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": self.model_id(), "object": "model", "owned_by": "sglang",
                                                     "max_model_len": self.server.state.args.ctx}]}
        return 404, {"detail": "Not Found"}

    def post_sglang(self, path, req):
        m = self.server.state.model
        if path == "/tokenize":
            ids = m.tokenize(req["prompt"], add_bos=bool(req.get("add_special_tokens", True)) and m.add_bos)
            return 200, {"tokens": ids, "count": len(ids), "max_model_len": self.server.state.args.ctx}
        if path != "/generate":
            return 404, {"detail": "Not Found"}
        ids = self.ids_of(req["input_ids"] if "input_ids" in req else req["text"])
        sp = req.get("sampling_params", {})
        n = int(sp.get("max_new_tokens", 128))
        if req.get("return_logprob"):
            lp = distribution(ids, m.n_vocab)
            best = top(lp, max(1, int(req.get("top_logprobs_num", 0))))
            first = best[0]
            meta = {"id": "fake", "finish_reason": {"type": "length", "length": 1}, "prompt_tokens": len(ids),
                    "completion_tokens": 1, "cached_tokens": 0, "input_token_logprobs": [],
                    "output_token_logprobs": [[first[1], first[0], None]],
                    "output_top_logprobs": [[[v, i, None] for i, v in best]]}
            if req.get("token_ids_logprob"):
                meta["output_token_ids_logprobs"] = [[[float(lp[t]), int(t), None] for t in req["token_ids_logprob"]]]
            return 200, {"text": m.text([first[0]]), "output_ids": [first[0]], "meta_info": meta}
        out, text, finish, word = greedy(ids, n, m, sp.get("stop") or [])
        fr = {"type": "length", "length": n} if finish == "length" else \
            {"type": "stop", "matched": word if finish == "stop" else m.eos}
        return 200, {"text": text, "output_ids": out,
                     "meta_info": {"id": "fake", "finish_reason": fr, "prompt_tokens": len(ids), "completion_tokens": len(out)}}

    # -- Ollama -----------------------------------------------------------------------------
    def get_ollama(self, path):
        if path == "/api/version":
            return 200, {"version": "0.13.0"}
        if path == "/api/tags":
            return 200, {"models": [{"name": self.model_id(), "model": self.model_id()}]}
        return 404, {"error": "not found"}

    def post_ollama(self, path, req):
        m = self.server.state.model
        if path == "/api/show":
            return 200, {"model_info": {"qwen2.context_length": 32768}}
        if path != "/api/generate":
            return 404, {"error": "not found"}
        if not req.get("raw"):
            return 400, {"error": "this fake serves raw prompts only"}
        ids = self.ids_of(req["prompt"])
        opts = req.get("options", {})
        n = int(opts.get("num_predict", 128))
        if req.get("logprobs"):
            k = int(req.get("top_logprobs", 0))
            if not 0 <= k <= 20:
                return 400, {"error": "top_logprobs must be between 0 and 20"}
            lp = distribution(ids, m.n_vocab)
            best = top(lp, max(k, 1))

            def alt(i, v):
                b = m.piece(i)
                return {"token": b.decode("utf-8", errors="replace"), "logprob": v, "bytes": list(b)}
            first = best[0]
            return 200, {"model": self.model_id(), "response": m.text([first[0]]), "done": True, "done_reason": "length",
                         "prompt_eval_count": len(ids), "eval_count": 1,
                         "logprobs": [dict(alt(*first), top_logprobs=[alt(i, v) for i, v in best[:k]])]}
        out, text, finish, word = greedy(ids, n, m, opts.get("stop") or [])
        return 200, {"model": self.model_id(), "response": text, "done": True,
                     "done_reason": "length" if finish == "length" else "stop",
                     "prompt_eval_count": len(ids), "eval_count": len(out)}

    # -- generic OpenAI-compatible (text prompts, legacy logprobs keyed by token text) ---------
    def get_openai(self, path):
        if path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": self.model_id(), "object": "model", "owned_by": "me"}]}
        return 404, {"detail": "Not Found"}

    def post_openai(self, path, req):
        m = self.server.state.model
        if path != "/v1/completions":
            return 404, {"detail": "Not Found"}
        ids = self.ids_of(req["prompt"])
        n = int(req.get("max_tokens", 16))
        if req.get("logprobs") is not None and n == 1:
            lp = distribution(ids, m.n_vocab)
            best = top(lp, int(req["logprobs"]))
            first = best[0]
            d = {}
            for i, v in best:
                d.setdefault(m.piece(i).decode("utf-8", errors="replace"), v)
            return 200, {"id": "cmpl", "object": "text_completion", "model": self.model_id(),
                         "choices": [{"index": 0, "text": m.text([first[0]]), "finish_reason": "length",
                                      "logprobs": {"text_offset": [0], "token_logprobs": [first[1]],
                                                   "tokens": [m.text([first[0]])], "top_logprobs": [d]}}],
                         "usage": {"prompt_tokens": len(ids), "completion_tokens": 1, "total_tokens": len(ids) + 1}}
        out, text, finish, word = greedy(ids, n, m, req.get("stop") or [])
        return 200, {"id": "cmpl", "object": "text_completion", "model": self.model_id(),
                     "choices": [{"index": 0, "text": text, "logprobs": None,
                                  "finish_reason": "length" if finish == "length" else "stop"}],
                     "usage": {"prompt_tokens": len(ids), "completion_tokens": len(out)}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", required=True, choices=["llama.cpp", "vllm", "sglang", "ollama", "openai"])
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--model-id", default="fake-model")
    ap.add_argument("--ctx", type=int, default=32768)
    ap.add_argument("--faults", default="")
    ap.add_argument("--log", default="")
    ap.add_argument("--vllm-token-ids", action="store_true", help="honour logprob_token_ids")
    ap.add_argument("--add-bos", action="store_true", help="add a BOS to text prompts (doubled-BOS check)")
    ap.add_argument("--api-key", default="", help="require Authorization: Bearer KEY")
    ap.add_argument("--require-header", default="", help="require this 'Name:value' header")
    ap.add_argument("--tls-cert", default="", help="serve https with this certificate...")
    ap.add_argument("--tls-key", default="", help="...and key")
    args = ap.parse_args()
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.state = State(args)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(f"PORT {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
