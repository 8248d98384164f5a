// Self-check: loses the only pointer to a heap block. LSan must report it.
#include <cstdio>

int* volatile escape;  // Keeps the allocation from being optimised away.

int main() {
  escape = new int[16]();
  std::printf("%d\n", escape[0]);
  escape = nullptr;
  return 0;
}
