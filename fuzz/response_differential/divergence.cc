// See divergence.h.
#include "fuzz/response_differential/divergence.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace h1::fuzz {
namespace {

absl::string_view TrimFieldWhitespace(absl::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

std::optional<Divergence::What> FirstDifference(const ParsedResponse& ours,
                                                const ParsedResponse& reference) {
  using What = Divergence::What;
  if (ours.version_major != reference.version_major ||
      ours.version_minor != reference.version_minor) {
    return What::kVersion;
  }
  if (ours.status != reference.status) return What::kStatus;
  if (ours.reason != reference.reason) return What::kReason;
  if (!SameFields(ours.headers, reference.headers)) return What::kHeaders;
  if (ours.body != reference.body) return What::kBody;
  if (!SameFields(ours.trailers, reference.trailers)) return What::kTrailers;
  if (ours.keep_alive != reference.keep_alive) return What::kKeepAlive;
  return std::nullopt;
}

}  // namespace

bool SameFields(const FieldList& ours, const FieldList& reference) {
  if (ours.size() != reference.size()) return false;
  for (size_t i = 0; i < ours.size(); ++i) {
    if (!absl::EqualsIgnoreCase(ours[i].first, reference[i].first) ||
        ours[i].second != TrimFieldWhitespace(reference[i].second)) {
      return false;
    }
  }
  return true;
}

std::optional<Divergence> FirstDivergence(const StreamOutcome& ours,
                                          const StreamOutcome& reference) {
  using What = Divergence::What;
  for (size_t i = 0;; ++i) {
    const bool ours_has = i < ours.responses.size();
    const bool reference_has = i < reference.responses.size();
    if (ours_has && reference_has) {
      if (std::optional<What> what = FirstDifference(ours.responses[i], reference.responses[i])) {
        return Divergence{*what, i};
      }
      continue;
    }
    const bool ours_rejected = !ours_has && ours.rejection.has_value();
    const bool reference_rejected = !reference_has && reference.rejection.has_value();
    if (ours_rejected && reference_rejected) return std::nullopt;
    if (ours_rejected) return Divergence{What::kOursRejects, i};
    if (reference_rejected) return Divergence{What::kReferenceRejects, i};
    if (ours_has) return Divergence{What::kReferenceEnds, i};
    if (reference_has) return Divergence{What::kOursEnds, i};
    return std::nullopt;
  }
}

std::string Describe(const Divergence& divergence) {
  static const char* const kNames[] = {
      "we reject", "the reference rejects", "we end", "the reference ends", "version",
      "status",    "reason phrase",         "headers", "body",             "trailers",
      "keep-alive"};
  return absl::StrCat(kNames[static_cast<int>(divergence.what)], " (response ",
                      divergence.index, ")");
}

}  // namespace h1::fuzz
