"""llhttp_repository: llhttp's C sources from Debian's node-llhttp package.

Upstream llhttp is written in TypeScript and generates its C parser; Debian's
node-llhttp ships that generated C (installed by tools/bootstrap.sh). This
rule links those files into a repository and checks that their version is the
one pinned here, as http_archive checks a sha256.
"""

_FILES = {
    "llhttp.h": "include/llhttp/llhttp.h",
    "api.c": "llhttp/api.c",
    "http.c": "llhttp/http.c",
    "llhttp.c": "llhttp/llhttp.c",
}

def _version_of(header):
    parts = {}
    for line in header.splitlines():
        words = [w for w in line.split(" ") if w]
        if len(words) == 3 and words[0] == "#define" and words[1].startswith("LLHTTP_VERSION_"):
            parts[words[1][len("LLHTTP_VERSION_"):]] = words[2]
    return "%s.%s.%s" % (parts.get("MAJOR"), parts.get("MINOR"), parts.get("PATCH"))

def _llhttp_repository_impl(ctx):
    for name, relative in _FILES.items():
        source = ctx.path(ctx.attr.root + "/" + relative)
        if not source.exists:
            fail("llhttp: %s not found; install Debian's node-llhttp (tools/bootstrap.sh does)" % source)
        ctx.symlink(source, name)
    found = _version_of(ctx.read("llhttp.h"))
    if found != ctx.attr.version:
        fail("llhttp: %s/%s is version %s, this workspace pins %s" %
             (ctx.attr.root, _FILES["llhttp.h"], found, ctx.attr.version))
    ctx.symlink(ctx.attr.build_file, "BUILD.bazel")

llhttp_repository = repository_rule(
    implementation = _llhttp_repository_impl,
    attrs = {
        "build_file": attr.label(mandatory = True, allow_single_file = True),
        "root": attr.string(default = "/usr/share"),
        "version": attr.string(mandatory = True),
    },
    local = True,
)
