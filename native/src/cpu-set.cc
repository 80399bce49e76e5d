#include "cpu-set.h"

#include <algorithm>
#include <new>

namespace outpost {

CpuSet::CpuSet(const std::vector<int32_t>& cpus) {
  int count = 1;
  for (int32_t cpu : cpus) count = std::max(count, cpu + 1);
  set_ = CPU_ALLOC(count);
  if (set_ == nullptr) throw std::bad_alloc();
  size_ = CPU_ALLOC_SIZE(count);
  CPU_ZERO_S(size_, set_);
  for (int32_t cpu : cpus)
    if (cpu >= 0) CPU_SET_S(static_cast<size_t>(cpu), size_, set_);
}

CpuSet::~CpuSet() { CPU_FREE(set_); }

}  // namespace outpost
