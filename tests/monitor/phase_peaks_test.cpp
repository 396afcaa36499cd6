// Per-phase peaks: a rise of the kernel's high-water mark belongs to the innermost phase it happened in.
#include <gtest/gtest.h>

#include "safetrain/monitor/phase_peaks.hpp"

using namespace safetrain::monitor;

TEST(PhasePeaks, ANestedPhasesRiseIsItsOwnNotItsOuterPhases) {
  PhasePeaks peaks;
  peaks.on_enter(Phase::train, 400);
  peaks.on_sample(Phase::train, 410);
  peaks.on_enter(Phase::checkpoint, 420);  // train rose to 420 before the checkpoint began
  peaks.on_exit(Phase::checkpoint, 500);   // the checkpoint write set the process peak
  peaks.on_exit(Phase::train, 500);        // nothing rose after it
  EXPECT_DOUBLE_EQ(peaks.peaks_mb().at(Phase::checkpoint), 500);
  EXPECT_DOUBLE_EQ(peaks.peaks_mb().at(Phase::train), 420);
}

TEST(PhasePeaks, APhaseBelowAnEarlierPeakKeepsItsLargestSample) {
  PhasePeaks peaks;
  peaks.on_enter(Phase::load, 300);
  peaks.on_exit(Phase::load, 600);
  peaks.on_enter(Phase::validate, 600);
  peaks.on_sample(Phase::validate, 450);
  peaks.on_sample(Phase::validate, 470);
  peaks.on_exit(Phase::validate, 600);  // VmHWM did not move: the samples are all we know
  EXPECT_DOUBLE_EQ(peaks.peaks_mb().at(Phase::load), 600);
  EXPECT_DOUBLE_EQ(peaks.peaks_mb().at(Phase::validate), 470);
}
