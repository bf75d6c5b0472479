#pragma once

#include <mpno/surrogate/precision.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mpno
{
  /**
   * The precision schedule of Tu et al. (ICLR 2024, zero-shot super-resolution) and of
   * the authors' fork of neuraloperator (trainer.py, `precision_schedule: [125, 375]`
   * with 500 epochs; method.md Sec. 3): training starts in a low spectral precision and
   * ends in a high one, e.g. `0:half, 0.25:mixed, 0.75:full`.
   *
   * Each phase starts at a fraction of the total epochs. Phase k with fraction f_k
   * starts with the 1-based epoch round(f_k * E) + 1 of E epochs: the switch happens at
   * the end of epoch round(f_k * E) (the nearest epoch, halves rounded up), as in the
   * fork. With `0:half, 0.25:mixed, 0.75:full` and E = 500, epochs 1..125 are half,
   * 126..375 mixed and 376..500 full. When two fractions round to the same epoch the
   * earlier phase is empty.
   *
   * A phase sets the spectral precision and autocast (policy()): autocast is that of
   * the base policy (the `Autocast` entry) in `half` and `mixed` phases and off in a
   * `full` phase; the stabilizer (a model property) and the reduced type stay.
   */
  class PrecisionSchedule
  {
  public:
    struct Phase
    {
      double            start; ///< fraction of the total epochs, in [0, 1)
      SpectralPrecision precision;
    };

    /**
     * @throws std::invalid_argument naming the schedule and the problem if @p phases
     *   is empty, a fraction is not in [0, 1), the fractions do not increase strictly
     *   or the first is not 0.
     */
    explicit PrecisionSchedule(std::vector<Phase> phases);

    /**
     * Parse "FRACTION:PRECISION, FRACTION:PRECISION, ..." (PRECISION: half | mixed |
     * full; spaces around the items are ignored), e.g. "0:half, 0.25:mixed, 0.75:full".
     * @throws std::invalid_argument naming the text and the offending item: no phase,
     *   an item without ':', a fraction that is no number, an unknown precision, or
     *   what the constructor refuses.
     */
    static PrecisionSchedule
    parse(const std::string &text);

    const std::vector<Phase> &
    phases() const
    {
      return phases_;
    }

    /** The index into phases() of the 1-based @p epoch of @p epochs (both >= 1). */
    std::size_t
    phase_index(int64_t epoch, int64_t epochs) const;

    /** The first 1-based epoch of phase @p index when training for @p epochs epochs. */
    int64_t
    first_epoch(std::size_t index, int64_t epochs) const;

    /**
     * The policy of phase @p index: @p base with the phase's spectral precision, and
     * autocast = base.autocast unless the phase is `full` (then off).
     */
    PrecisionPolicy
    phase_policy(const PrecisionPolicy &base, std::size_t index) const;

    /** The policy of the 1-based @p epoch of @p epochs: phase_policy() of its phase. */
    PrecisionPolicy
    policy(const PrecisionPolicy &base, int64_t epoch, int64_t epochs) const;

    /** The text parse() reads back exactly, e.g. "0:half, 0.25:mixed, 0.75:full". */
    std::string
    to_string() const;

    bool
    operator==(const PrecisionSchedule &other) const;

  private:
    /** Why @p phases are no schedule (the constructor's conditions), or "". */
    static std::string
    problem(const std::vector<Phase> &phases);

    std::vector<Phase> phases_;
  };
} // namespace mpno
