"""cc_fuzz_test: one fuzz target, usable as a test in every config.

Outside --config=fuzz the target is an ordinary cc_test whose main() replays
the seed corpus through LLVMFuzzerTestOneInput, so `bazel test //...` runs
every fuzz target under ASan, TSan and UBSan.

Under --config=fuzz it links libFuzzer (-fsanitize=fuzzer):
  bazel test --config=fuzz //fuzz:NAME     replays the corpus once;
  bazel run  --config=fuzz //fuzz:NAME     fuzzes for 60 s into a writable
      copy of the corpus in fuzz-out/NAME/ (crash files land there too);
      libFuzzer flags go after `--` and override the defaults.
An optional `dict` (a libFuzzer dictionary file) is passed as -dict= under
`bazel run` unless the user passes one.
A fuzz target must not define LLVMFuzzerInitialize: the run defaults use it.
"""

load("@rules_cc//cc:defs.bzl", "cc_test")

def cc_fuzz_test(name, srcs, corpus, deps = [], tags = [], dict = None, **kwargs):
    corpus_name = name + "_corpus"
    native.filegroup(
        name = corpus_name,
        srcs = corpus,
    )

    # Launcher flags ("--", which libFuzzer ignores and replay skips) come
    # first, then the seeds.
    launcher_flags = ["--seed_count=%d" % len(corpus)]
    data = [":" + corpus_name]
    if dict:
        launcher_flags.append("--dict=$(location %s)" % dict)
        data.append(dict)
    cc_test(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//tools/fuzzing:libfuzzer": ["//tools/fuzzing:libfuzzer_run_defaults"],
            "//conditions:default": ["//tools/fuzzing:replay_main"],
        }),
        linkopts = select({
            "//tools/fuzzing:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = data,
        # The seed count lets `bazel run` tell seeds from the user's own arguments.
        args = launcher_flags + ["$(locations :%s)" % corpus_name],
        tags = tags + ["fuzz_target"],
        **kwargs
    )
