#pragma once
#include <sched.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace outpost {

// A dynamically sized cpu_set_t (boxes with more than 1024 CPUs exist), built before
// fork so the child only passes it to sched_setaffinity.
class CpuSet {
 public:
  explicit CpuSet(const std::vector<int32_t>& cpus);
  CpuSet(const CpuSet&) = delete;
  CpuSet& operator=(const CpuSet&) = delete;
  ~CpuSet();
  cpu_set_t* set() const { return set_; }
  size_t size() const { return size_; }

 private:
  cpu_set_t* set_;
  size_t size_;
};

}  // namespace outpost
