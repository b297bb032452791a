#include "core/abdm/data_push_writer.hpp"

#include <nlohmann/json.hpp>

#include "core/crypto/checksum.hpp"
#include "core/util/error.hpp"

namespace abdm::proto {
namespace {

std::string json_string(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

}  // namespace

DataPushWriter::DataPushWriter(std::string path, std::string_view transaction_id, const crypto::SessionKeys& keys,
                               const PushKeyMaterial& key, int page_number, int page_count)
    : path_(std::move(path)), file_(path_.empty() ? nullptr : std::fopen(path_.c_str(), "wb")), keys_(keys) {
  if (!file_ && !in_memory()) throw Error(sqlstate::kInternal, "", "cannot create the push file " + path_);
  const std::string envelope = data_push(transaction_id, page_number, page_count, {}, key).dump();
  const std::string marker = "\"entries\":[]";
  const std::size_t at = envelope.find(marker);
  if (at == std::string::npos) throw Error(sqlstate::kInternal, "", "push envelope without entries");
  const std::size_t open_end = at + marker.size() - 1;  // just after '['
  tail_ = envelope.substr(open_end);                     // "]..." to the end
  write(std::string_view(envelope).substr(0, open_end));
}

DataPushWriter::~DataPushWriter() {
  if (file_) std::fclose(file_);
  if (!in_memory()) std::remove(path_.c_str());
}

void DataPushWriter::write(std::string_view s) {
  if (finished_) throw Error(sqlstate::kInternal, "", "push file already finished");
  if (in_memory()) {
    memory_.append(s);
  } else if (std::fwrite(s.data(), 1, s.size(), file_) != s.size())
    throw Error(sqlstate::kInternal, "", "writing the push file failed");
  size_ += s.size();
}

std::string DataPushWriter::add(std::string_view care_context_reference, std::string_view bundle) {
  cipher_.resize(crypto::encrypted_size(bundle.size()));
  crypto::encrypt_into(keys_, bundle, cipher_.data());
  std::string checksum = crypto::md5_base64(bundle);
  write(std::string(entries_ == 0 ? "" : ",") + "{\"careContextReference\":" + json_string(care_context_reference) +
        ",\"checksum\":" + json_string(checksum) + ",\"content\":\"");
  write(cipher_);
  write("\",\"media\":\"application/fhir+json\"}");
  ++entries_;
  return checksum;
}

void DataPushWriter::finish() {
  cipher_.clear();
  cipher_.shrink_to_fit();
  write(tail_);
  finished_ = true;
  if (in_memory()) return;
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    throw Error(sqlstate::kInternal, "", "closing the push file failed");
  }
  file_ = nullptr;
}

}  // namespace abdm::proto
