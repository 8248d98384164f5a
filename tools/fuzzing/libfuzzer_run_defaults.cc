// Linked into cc_fuzz_test targets under --config=fuzz. Under `bazel test`
// (and when run by hand) it changes nothing: libFuzzer replays the seed files
// it is given. Under `bazel run` it rewrites the command line so that the run
// fuzzes: the seeds are copied into a writable corpus fuzz-out/NAME/corpus in
// the workspace, -max_total_time=60 and -artifact_prefix=fuzz-out/NAME/ are
// set unless the user passed them, and relative paths the user passed are
// taken from the directory bazel was called in. If the user names input files
// (say, a crash to reproduce) those are run instead of the corpus. A target's
// dictionary (launcher flag --dict=, see fuzz.bzl) becomes -dict= unless the
// user passed -dict.
//
// libFuzzer calls LLVMFuzzerInitialize before it parses its flags, which is
// what makes the rewrite take effect.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr char kSeedCountFlag[] = "--seed_count=";
constexpr char kDictFlag[] = "--dict=";
constexpr char kDefaultMaxTotalTime[] = "-max_total_time=60";

bool HasFlag(const std::vector<std::string>& args, const std::string& name) {
  for (const auto& arg : args) {
    if (arg.rfind("-" + name + "=", 0) == 0) return true;
  }
  return false;
}

std::vector<std::string>& RewrittenArgs() {
  static auto* args = new std::vector<std::string>;
  return *args;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (workspace == nullptr || *argc < 2) return 0;
  // Launcher flags (fuzz.bzl), then the seeds, then the user's arguments.
  int seed_count = -1;
  std::string dict;
  int first_seed = 1;
  for (; first_seed < *argc; ++first_seed) {
    const std::string flag = (*argv)[first_seed];
    if (flag.rfind(kSeedCountFlag, 0) == 0) {
      seed_count = std::atoi(flag.c_str() + sizeof(kSeedCountFlag) - 1);
    } else if (flag.rfind(kDictFlag, 0) == 0) {
      dict = flag.substr(sizeof(kDictFlag) - 1);
    } else {
      break;
    }
  }
  const int first_user_arg = first_seed + seed_count;
  if (seed_count < 0 || first_user_arg > *argc) return 0;

  const std::string name = fs::path((*argv)[0]).filename();
  const fs::path out = fs::path(workspace) / "fuzz-out" / name;
  const fs::path corpus = out / "corpus";
  fs::create_directories(corpus);
  for (int i = first_seed; i < first_user_arg; ++i) {
    const fs::path seed = (*argv)[i];
    const fs::path copy = corpus / seed.filename();
    if (!fs::exists(copy)) fs::copy_file(seed, copy);
  }

  const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  std::vector<std::string> user_args;
  bool user_named_inputs = false;
  for (int i = first_user_arg; i < *argc; ++i) {
    std::string arg = (*argv)[i];
    if (arg.empty() || arg[0] != '-') {
      user_named_inputs = true;
      if (user_dir != nullptr && fs::path(arg).is_relative()) {
        arg = (fs::path(user_dir) / arg).string();
      }
    }
    user_args.push_back(arg);
  }

  std::vector<std::string>& args = RewrittenArgs();
  args.push_back((*argv)[0]);
  if (!user_named_inputs && !HasFlag(user_args, "max_total_time") &&
      !HasFlag(user_args, "runs")) {
    args.push_back(kDefaultMaxTotalTime);
  }
  if (!HasFlag(user_args, "artifact_prefix")) {
    args.push_back("-artifact_prefix=" + out.string() + "/");
  }
  if (!dict.empty() && !HasFlag(user_args, "dict")) args.push_back("-dict=" + dict);
  args.insert(args.end(), user_args.begin(), user_args.end());
  if (!user_named_inputs) args.push_back(corpus.string());
  std::fprintf(stderr, "fuzz: corpus %s, artifacts %s/\n", corpus.c_str(), out.c_str());

  static auto* pointers = new std::vector<char*>;
  for (auto& arg : args) pointers->push_back(arg.data());
  pointers->push_back(nullptr);
  *argc = static_cast<int>(args.size());
  *argv = pointers->data();
  return 0;
}
