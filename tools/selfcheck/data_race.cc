// Self-check: two threads increment a plain int. TSan must report a data race.
#include <thread>

int counter = 0;

int main() {
  std::thread other([] { ++counter; });
  ++counter;
  other.join();
  return counter == 2 ? 0 : 1;
}
