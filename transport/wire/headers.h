// Headers: an ordered list of HTTP header fields with case-insensitive name
// lookup; repeated names are kept in order. Thread-compatible.
#ifndef H1_TRANSPORT_WIRE_HEADERS_H_
#define H1_TRANSPORT_WIRE_HEADERS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace h1::wire {

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  // Appends a field; earlier fields of the same name stay.
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every `name` field with this one, where the first of them was
  // (at the end if there was none), as Go's Header.Set.
  void Set(std::string name, std::string value);
  // Removes every `name` field.
  void Del(absl::string_view name);
  // The first value of `name`, if any.
  std::optional<std::string> Get(absl::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string> GetAll(absl::string_view name) const;
  bool Has(absl::string_view name) const { return Get(name).has_value(); }
  // True if any `name` field lists `token` (comma-separated, case-insensitive),
  // as in "Connection: keep-alive, close".
  bool HasToken(absl::string_view name, absl::string_view token) const;

  // The fields in order, as (name, value) pairs: for (const auto& [name,
  // value] : headers).
  const std::vector<Field>& fields() const { return fields_; }
  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }
  size_t size() const { return fields_.size(); }
  bool operator==(const Headers& other) const { return fields_ == other.fields_; }

 private:
  std::vector<Field> fields_;
};

// `value` without the optional whitespace (SP and HTAB, nothing else)
// around it (RFC 9110 5.5): what a receiver takes a field value to be.
absl::string_view TrimFieldValue(absl::string_view value);

}  // namespace h1::wire

#endif  // H1_TRANSPORT_WIRE_HEADERS_H_
