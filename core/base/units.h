// Units of time and size. Time is a strong type so an Instant cannot be passed where a Duration
// is meant; both count nanoseconds in an int64 (±292 years), enough for any simulated run.
#pragma once

#include <cstdint>
#include <ostream>

namespace eddy {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanoseconds(int64_t n) { return Duration(n); }
  static constexpr Duration Microseconds(int64_t n) { return Duration(n * 1000); }
  static constexpr Duration Milliseconds(int64_t n) { return Duration(n * 1000 * 1000); }
  static constexpr Duration Seconds(int64_t n) { return Duration(n * 1000 * 1000 * 1000); }
  static constexpr Duration Zero() { return Duration(0); }

  constexpr int64_t nanoseconds() const { return nanoseconds_; }
  constexpr int64_t microseconds() const { return nanoseconds_ / 1000; }
  constexpr int64_t milliseconds() const { return nanoseconds_ / (1000 * 1000); }
  constexpr double seconds() const { return static_cast<double>(nanoseconds_) / 1e9; }

  constexpr Duration operator+(Duration other) const {
    return Duration(nanoseconds_ + other.nanoseconds_);
  }
  constexpr Duration operator-(Duration other) const {
    return Duration(nanoseconds_ - other.nanoseconds_);
  }
  constexpr Duration operator*(int64_t factor) const { return Duration(nanoseconds_ * factor); }
  constexpr Duration operator/(int64_t divisor) const { return Duration(nanoseconds_ / divisor); }
  constexpr Duration& operator+=(Duration other) {
    nanoseconds_ += other.nanoseconds_;
    return *this;
  }
  constexpr auto operator<=>(const Duration&) const = default;

 private:
  constexpr explicit Duration(int64_t nanoseconds) : nanoseconds_(nanoseconds) {}
  int64_t nanoseconds_ = 0;
};

// A point on one runtime's monotonic clock. Only differences between Instants of the same
// runtime mean anything; the epoch is the runtime's start (simulated) or boot (real).
class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant FromNanoseconds(int64_t n) { return Instant(n); }
  constexpr int64_t nanoseconds() const { return nanoseconds_; }

  constexpr Instant operator+(Duration d) const { return Instant(nanoseconds_ + d.nanoseconds()); }
  constexpr Instant operator-(Duration d) const { return Instant(nanoseconds_ - d.nanoseconds()); }
  constexpr Duration operator-(Instant other) const {
    return Duration::Nanoseconds(nanoseconds_ - other.nanoseconds_);
  }
  constexpr auto operator<=>(const Instant&) const = default;

 private:
  constexpr explicit Instant(int64_t nanoseconds) : nanoseconds_(nanoseconds) {}
  int64_t nanoseconds_ = 0;
};

inline std::ostream& operator<<(std::ostream& out, Duration d) {
  return out << d.nanoseconds() << "ns";
}
inline std::ostream& operator<<(std::ostream& out, Instant t) {
  return out << "@" << t.nanoseconds() << "ns";
}

}  // namespace eddy
