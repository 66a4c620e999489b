// The README.md written next to a trained model: recipe, seed, steps, loss and measured scores.
#pragma once

#include <string>
#include <vector>

#include "headscope/training.hpp"
#include "training/induction_circuit.hpp"
#include "training/recipes.hpp"

namespace headscope::training {

std::vector<std::string> describe_induction_circuit(const InductionCircuit& ic);
void write_model_readme(const std::string& path, const Recipe& recipe, const TrainOptions& options,
                        const TrainResult& result);

}  // namespace headscope::training
