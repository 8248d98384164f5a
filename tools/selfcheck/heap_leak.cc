// Self-check: loses the only pointers to heap blocks. LSan must report them.
// Allocated in a separate frame and stored through a volatile global, so the
// optimiser cannot elide them; several blocks, because a stale copy of the
// last pointer left in a register or stack slot can hide one of them.

int* volatile escape;

__attribute__((noinline)) void AllocateAndForget() {
  for (int i = 0; i < 8; ++i) escape = new int[16]();
  escape = nullptr;
}

int main() {
  AllocateAndForget();
  return 0;
}
