// Self-check: overflows a signed int. UBSan must report it.
#include <climits>

int main(int argc, char**) {
  int big = INT_MAX - 1 + argc;
  return (big + argc) < 0 ? 0 : 1;
}
