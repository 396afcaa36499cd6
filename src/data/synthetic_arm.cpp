#include "safetrain/data/synthetic_arm.hpp"

#include <array>
#include <cmath>

namespace safetrain::data {
namespace {

constexpr int kJoints = 6;
// A UR5-like arm in standard Denavit–Hartenberg form (metres, radians).
constexpr double kD[kJoints] = {0.089, 0.0, 0.0, 0.109, 0.095, 0.082};
constexpr double kA[kJoints] = {0.0, -0.425, -0.392, 0.0, 0.0, 0.0};
constexpr double kAlpha[kJoints] = {M_PI / 2, 0.0, 0.0, M_PI / 2, -M_PI / 2, 0.0};

// Batched DH transform of one joint: [n, 4, 4].
torch::Tensor joint_transform(const torch::Tensor& q, int joint) {
  const auto c = torch::cos(q), s = torch::sin(q);
  const double ca = std::cos(kAlpha[joint]), sa = std::sin(kAlpha[joint]);
  const auto zero = torch::zeros_like(q), one = torch::ones_like(q);
  const auto rows = torch::stack({c, -s * ca, s * sa, c * kA[joint],        //
                                  s, c * ca, -c * sa, s * kA[joint],        //
                                  zero, zero + sa, zero + ca, zero + kD[joint],  //
                                  zero, zero, zero, one},
                                 1);
  return rows.view({-1, 4, 4});
}

}  // namespace

const std::vector<std::string>& synthetic_target_names() {
  static const std::vector<std::string> names{"x", "y", "z", "roll", "pitch", "yaw"};
  return names;
}

namespace {

// Columns built in order; random draws come from one seeded generator, so the order is part of the data.
struct ColumnBuilder {
  int64_t n;
  at::Generator generator;
  std::vector<std::string> names;
  std::vector<torch::Tensor> columns;

  torch::Tensor uniform(double low, double high, int64_t count) {
    return at::empty({n, count}, torch::kDouble).uniform_(low, high, generator);
  }
  torch::Tensor normal(double stddev, int64_t count) {
    return at::empty({n, count}, torch::kDouble).normal_(0.0, stddev, generator);
  }
  void add(const std::string& name, const torch::Tensor& column) {
    names.push_back(name);
    columns.push_back(column.reshape({n, 1}));
  }
};

// End-effector position and roll/pitch/yaw of the arm at joint angles q.
std::array<torch::Tensor, 6> arm_pose(const torch::Tensor& q) {
  const int64_t n = q.size(0);
  auto pose = torch::eye(4, torch::kDouble).expand({n, 4, 4}).clone();
  for (int j = 0; j < kJoints; ++j) pose = torch::bmm(pose, joint_transform(q.select(1, j), j));
  const auto r = pose.narrow(1, 0, 3).narrow(2, 0, 3);
  const auto position = pose.narrow(2, 3, 1).narrow(1, 0, 3).squeeze(2);
  const auto yaw = torch::atan2(r.select(1, 1).select(1, 0), r.select(1, 0).select(1, 0));
  const auto pitch = torch::atan2(-r.select(1, 2).select(1, 0),
                                  torch::sqrt(r.select(1, 2).select(1, 1).pow(2) + r.select(1, 2).select(1, 2).pow(2)));
  const auto roll = torch::atan2(r.select(1, 2).select(1, 1), r.select(1, 2).select(1, 2));
  return {position.select(1, 0), position.select(1, 1), position.select(1, 2), roll, pitch, yaw};
}

// Redundant descriptors in a fixed rotation of kinds, so any count has a mix of each.
void add_descriptors(ColumnBuilder& b, const torch::Tensor& q, const torch::Tensor& encoders, int64_t count) {
  for (int64_t d = 0; d < count; ++d) {
    const int j = static_cast<int>(d % kJoints);
    const auto qj = q.select(1, j);
    const std::string id = std::to_string(d + 1), joint = std::to_string(j + 1);
    switch (d % 8) {
      case 0: b.add("desc_sin_q" + joint + "_" + id, torch::sin(qj)); break;
      case 1: b.add("desc_cos_q" + joint + "_" + id, torch::cos(qj)); break;
      case 2: b.add("desc_prod_q" + joint + "_" + id, qj * q.select(1, (j + 1) % kJoints)); break;
      case 3: b.add("desc_dup_encoder" + joint + "_" + id, encoders.select(1, j) + b.normal(1e-4, 1).squeeze(1)); break;
      case 4: b.add("desc_const_" + id, torch::full({b.n}, 1.5 + 0.25 * static_cast<double>(d % 3), torch::kDouble)); break;
      case 5: {
        auto sparse = qj.clone();
        sparse.masked_fill_(b.uniform(0.0, 1.0, 1).squeeze(1) < 0.9, NAN);  // 90% missing
        b.add("desc_sparse_q" + joint + "_" + id, sparse);
        break;
      }
      case 6: b.add("desc_square_q" + joint + "_" + id, qj * qj); break;
      default: b.add("desc_noise_" + id, b.normal(1.0, 1).squeeze(1)); break;
    }
  }
}

}  // namespace

Table make_synthetic_arm(const SyntheticOptions& o) {
  torch::NoGradGuard no_grad;
  ColumnBuilder b{o.rows, at::detail::createCPUGenerator(o.seed), {}, {}};
  // Joint ranges kept inside (-1.3, 1.3) rad so the orientation angles rarely wrap around ±pi.
  const auto q = b.uniform(-1.3, 1.3, kJoints);
  const auto pose = arm_pose(q);
  const auto encoders = q + b.normal(o.sensor_noise, kJoints);
  for (int j = 0; j < kJoints; ++j) b.add("joint_" + std::to_string(j + 1), q.select(1, j));
  for (int j = 0; j < kJoints; ++j) b.add("encoder_" + std::to_string(j + 1), encoders.select(1, j));
  // Gravity load on the shoulder and elbow, as a torque sensor would read it.
  const auto shoulder = 0.425 * torch::cos(q.select(1, 1)) + 0.392 * torch::cos(q.select(1, 1) + q.select(1, 2));
  const auto elbow = 0.392 * torch::cos(q.select(1, 1) + q.select(1, 2));
  b.add("torque_2", shoulder * 9.81 + b.normal(o.sensor_noise * 10, 1).squeeze(1));
  b.add("torque_3", elbow * 9.81 + b.normal(o.sensor_noise * 10, 1).squeeze(1));
  add_descriptors(b, q, encoders, o.descriptor_columns);
  for (size_t i = 0; i < pose.size(); ++i) b.add(synthetic_target_names()[i], pose[i]);

  Table table;
  table.columns = std::move(b.names);
  table.values = torch::cat(b.columns, 1).to(torch::kFloat).contiguous();
  table.source = "synthetic 6-DoF arm (seed " + std::to_string(o.seed) + ")";
  return table;
}

}  // namespace safetrain::data
