#pragma once
// The optimizer and precision kinds a run uses. They live beside the models
// because the memory estimate needs them before anything is built; the
// trainer's config binds `training.optimizer` and `training.precision` to them.
#include "safetrain/common/enum_names.hpp"

namespace safetrain::models {

enum class OptimizerKind { adam, adamw, sgd };
inline constexpr EnumName<OptimizerKind> kOptimizerKindNames[] = {
    {"adam", OptimizerKind::adam}, {"adamw", OptimizerKind::adamw}, {"sgd", OptimizerKind::sgd}};
constexpr const auto& enum_names(OptimizerKind) { return kOptimizerKindNames; }

// "16": fp16 autocast with dynamic loss scaling on CUDA; "bf16": bfloat16 autocast.
enum class Precision { fp32, fp16, bf16 };
inline constexpr EnumName<Precision> kPrecisionNames[] = {
    {"32", Precision::fp32}, {"16", Precision::fp16}, {"bf16", Precision::bf16}};
constexpr const auto& enum_names(Precision) { return kPrecisionNames; }

// Where a model runs: auto = CUDA when LibTorch has it and a device exists.
enum class DeviceSetting { automatic, cpu, cuda };
inline constexpr EnumName<DeviceSetting> kDeviceSettingNames[] = {
    {"auto", DeviceSetting::automatic}, {"cpu", DeviceSetting::cpu}, {"cuda", DeviceSetting::cuda}};
constexpr const auto& enum_names(DeviceSetting) { return kDeviceSettingNames; }

}  // namespace safetrain::models
