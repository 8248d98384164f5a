// main() for a cc_fuzz_test built without libFuzzer: feeds every file named on
// the command line (directories are walked) to LLVMFuzzerTestOneInput once.
// Arguments starting with "--" are flags for the launcher and are skipped.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool ReplayFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  // An exactly sized heap copy, so ASan sees any read past the end.
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.empty() ? nullptr : bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int replayed = 0;
  int unreadable = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) continue;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.push_back(arg);
    }
    for (const auto& file : files) {
      if (ReplayFile(file)) {
        ++replayed;
      } else {
        ++unreadable;
      }
    }
  }
  std::printf("replay: %d inputs replayed, %d unreadable\n", replayed, unreadable);
  if (replayed == 0) {
    std::fprintf(stderr, "replay: no input given\n");
    return 1;
  }
  return unreadable == 0 ? 0 : 1;
}
