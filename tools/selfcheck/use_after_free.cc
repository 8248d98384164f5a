// Self-check: reads a heap block after freeing it. ASan must report it.
#include <cstdlib>

int main(int argc, char**) {
  int* block = new int[4]{argc, 2, 3, 4};
  delete[] block;
  return block[argc] == 2 ? 0 : 1;
}
