#include "report/dashboard.h"

#include <stdexcept>

namespace gavel::report {

namespace {
// The data block's placeholder in dashboard.html.
constexpr std::string_view kSlot = "<script id=\"gavel-data\" type=\"application/json\"></script>";
}  // namespace

std::string dashboard_with_data(const nlohmann::json& data) {
  const std::string text = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Inside <script>, "</script" or "<!--" would change how the page parses. '<' occurs in JSON
  // only inside strings, where \u003c is the same character.
  std::string safe;
  safe.reserve(text.size());
  for (char c : text) {
    if (c == '<')
      safe += "\\u003c";
    else
      safe += c;
  }
  std::string page(dashboard_page());
  const size_t at = page.find(kSlot);
  if (at == std::string::npos) throw std::logic_error("dashboard.html lacks its data slot");
  page.replace(at, kSlot.size(),
               "<script id=\"gavel-data\" type=\"application/json\">" + safe + "</script>");
  return page;
}

}  // namespace gavel::report
