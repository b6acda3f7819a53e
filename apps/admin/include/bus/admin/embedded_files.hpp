#pragma once

// The files of apps/admin/web/, embedded in the binary at build time (see
// cmake/BusEmbed.cmake): the admin endpoint serves each at its path, and
// index.html at "/". No file is read from disk at run time.

#include <string_view>
#include <vector>

namespace bus::admin {

struct embedded_file {
  /// Relative to web/, with '/' ("index.html", "css/site.css").
  std::string_view path;
  std::string_view bytes;
};

/// Every embedded file (generated).
const std::vector<embedded_file>& embedded_files();

/// The embedded file at `path`, or nullptr.
const embedded_file* find_embedded(std::string_view path);

/// The Content-Type for a file name, by its extension
/// (application/octet-stream for one not known).
std::string_view content_type_of(std::string_view path);

} // namespace bus::admin
