"""The external repositories h1transport needs, declared in one place.

Our WORKSPACE calls both macros; a workspace that vendors h1transport calls
h1transport_dependencies() (and h1transport_test_dependencies() only to run
our tests). Each repository is declared only if the caller has not declared
it already (the `maybe` pattern), so a consumer's own pins win: declare yours
before calling the macro.
"""

load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")
load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")

def h1transport_dependencies():
    """What //transport needs: Abseil, and the rules its BUILD files load."""

    # Abseil LTS 20220623.1, built from source so every sanitizer instruments it.
    maybe(
        http_archive,
        name = "com_google_absl",
        sha256 = "91ac87d30cc6d79f9ab974c51874a704de9c2647c40f6932597329a282217ba8",
        strip_prefix = "abseil-cpp-20220623.1",
        urls = ["https://github.com/abseil/abseil-cpp/archive/refs/tags/20220623.1.tar.gz"],
    )

    # Abseil's BUILD files load @bazel_skylib//lib:selects.bzl and use @platforms.
    maybe(
        http_archive,
        name = "bazel_skylib",
        sha256 = "f7be3474d42aae265405a592bb7da8e171919d74c16f082a5457840f06054728",
        urls = ["https://github.com/bazelbuild/bazel-skylib/releases/download/1.2.1/bazel-skylib-1.2.1.tar.gz"],
    )
    maybe(
        http_archive,
        name = "platforms",
        sha256 = "a879ea428c6d56ab0ec18224f976515948822451473a80d06c2e50af0bbe5121",
        strip_prefix = "platforms-da5541f26b7de1dc8e04c075c99df5351742a4a2",
        urls = ["https://github.com/bazelbuild/platforms/archive/da5541f26b7de1dc8e04c075c99df5351742a4a2.zip"],
    )

def h1transport_test_dependencies():
    """What our tests need besides h1transport_dependencies(): GoogleTest."""
    maybe(
        http_archive,
        name = "com_google_googletest",
        sha256 = "81964fe578e9bd7c94dfdb09c8e4d6e6759e19967e397dbea48d1c10e45d0df2",
        strip_prefix = "googletest-release-1.12.1",
        urls = ["https://github.com/google/googletest/archive/refs/tags/release-1.12.1.tar.gz"],
    )

    # GoogleTest's BUILD names RE2 in one branch of a select (its Abseil
    # mode), so `bazel query 'deps(...)'` needs the repository to exist.
    # Nothing here builds it.
    maybe(
        http_archive,
        name = "com_googlesource_code_re2",
        sha256 = "f89c61410a072e5cbcf8c27e3a778da7d6fd2f2b5b1445cd4f4508bee946ab0f",
        strip_prefix = "re2-2022-06-01",
        urls = ["https://github.com/google/re2/archive/refs/tags/2022-06-01.tar.gz"],
    )
