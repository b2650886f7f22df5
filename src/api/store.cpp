// gavel::JudgmentStore over the store layer.
#include "gavel/store.h"

#include "store/store.h"

namespace gavel {

struct JudgmentStore::Impl {
  std::unique_ptr<store::Store> store;
};

JudgmentStore::JudgmentStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JudgmentStore::~JudgmentStore() = default;

Result<std::unique_ptr<JudgmentStore>> JudgmentStore::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  GAVEL_ASSIGN(impl->store, store::Store::open(path));
  return std::unique_ptr<JudgmentStore>(new JudgmentStore(std::move(impl)));
}

const std::string& JudgmentStore::path() const { return impl_->store->path(); }

Result<int64_t> JudgmentStore::count() { return impl_->store->count(); }

Status JudgmentStore::for_each(const std::function<Status(const StoredJudgment&)>& visit) {
  return impl_->store->for_each(visit);
}

}  // namespace gavel
