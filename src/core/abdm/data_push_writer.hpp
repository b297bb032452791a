// One data push (one page) to a HIU (NHA M2 v2.8 §6.3.5; abdm-docs "Transfer health data"), written to a
// file one entry at a time, so memory holds one bundle whatever the transfer's size: the
// envelope comes from the core builder (data_push) split around its empty entries array, so the
// shape is defined once, and each entry is checksummed (base64 MD5 of the exact bytes sent) and
// encrypted (Fidelius) as it is added. The file (ciphertext only) is removed when the writer
// goes, so an error or a finished push leaves nothing behind.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstdio>
#include <string>
#include <string_view>

#include "core/abdm/outbound.hpp"
#include "core/crypto/fidelius.hpp"

namespace abdm::proto {

class DataPushWriter {
 public:
  // Creates `path` (abdm::Error when it cannot) and writes the envelope up to the entries: page
  // `page_number` of `page_count`, encrypted with `keys` (the page's own key pair and nonce).
  // An empty `path` keeps the body in memory instead (small pages: creating and removing a file
  // per page cost the transfer worker more than encrypting a small page), read with take_body().
  DataPushWriter(std::string path, std::string_view transaction_id, const crypto::SessionKeys& keys,
                 const PushKeyMaterial& key, int page_number = 1, int page_count = 1);
  ~DataPushWriter();
  DataPushWriter(const DataPushWriter&) = delete;
  DataPushWriter& operator=(const DataPushWriter&) = delete;

  // One entry: the care context's reference, base64(MD5) of `bundle`, its ciphertext, the media.
  // Returns the checksum, for the share ledger.
  std::string add(std::string_view care_context_reference, std::string_view bundle);
  // Writes the rest of the envelope and closes the file; add() may not follow.
  void finish();

  const std::string& path() const { return path_; }
  bool in_memory() const { return path_.empty(); }
  // The finished body of an in-memory writer (moved out; size() still tells its length).
  std::string take_body() { return std::move(memory_); }
  std::size_t size() const { return size_; }  // bytes written
  int entries() const { return entries_; }

 private:
  void write(std::string_view s);

  std::string path_;
  std::FILE* file_;
  std::string memory_;  // the body when path_ is empty
  bool finished_ = false;
  const crypto::SessionKeys keys_;  // a copy: the page's keys live as long as its writer
  std::string tail_;    // the envelope after the entries
  std::string cipher_;  // reused between entries: one bundle's ciphertext at a time
  std::size_t size_ = 0;
  int entries_ = 0;
};

}  // namespace abdm::proto
