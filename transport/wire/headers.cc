// See headers.h.
#include "transport/wire/headers.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace h1::wire {

void Headers::Set(std::string name, std::string value) {
  const auto same_name = [&name](const Field& field) {
    return absl::EqualsIgnoreCase(field.first, name);
  };
  const auto first = std::find_if(fields_.begin(), fields_.end(), same_name);
  if (first == fields_.end()) {
    Add(std::move(name), std::move(value));
    return;
  }
  fields_.erase(std::remove_if(first + 1, fields_.end(), same_name), fields_.end());
  *first = Field(std::move(name), std::move(value));
}

void Headers::Del(absl::string_view name) {
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [name](const Field& field) {
                                 return absl::EqualsIgnoreCase(field.first, name);
                               }),
                fields_.end());
}

std::optional<std::string> Headers::Get(absl::string_view name) const {
  for (const auto& [field_name, value] : fields_) {
    if (absl::EqualsIgnoreCase(field_name, name)) return value;
  }
  return std::nullopt;
}

std::vector<std::string> Headers::GetAll(absl::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [field_name, value] : fields_) {
    if (absl::EqualsIgnoreCase(field_name, name)) values.push_back(value);
  }
  return values;
}

bool Headers::HasToken(absl::string_view name, absl::string_view token) const {
  for (const std::string& value : GetAll(name)) {
    for (absl::string_view item : absl::StrSplit(value, ',')) {
      if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(item), token)) return true;
    }
  }
  return false;
}

absl::string_view TrimFieldValue(absl::string_view value) {
  const auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!value.empty() && is_ows(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_ows(value.back())) value.remove_suffix(1);
  return value;
}

}  // namespace h1::wire
