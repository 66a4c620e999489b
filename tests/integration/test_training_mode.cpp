// Gradients flow through the hooked forward to the stored weights (the basis of training).
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "headscope/model_loader.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;

TEST_CASE("enable_training gives leaf weights whose gradients match finite differences", "[model][training]") {
    LoadOptions o;
    o.tokenizer_path = stories_tokenizer();
    o.compute.dtype = at::kDouble;
    LoadedModel m = load_model(stories_bin(), o);
    torch::Tensor tokens = torch::tensor({1, 403, 407, 261, 378, 432}, torch::kLong).unsqueeze(0);
    auto loss_of = [&] {
        torch::Tensor logits = m.model->forward(tokens);
        return torch::nn::functional::cross_entropy(logits[0].narrow(0, 0, 5), tokens[0].narrow(0, 1, 5));
    };
    std::vector<at::Tensor> params = m.model->enable_training();
    REQUIRE(params.size() == 1 + 5 * 9 + 1);  // W_E (tied), 9 per layer, final norm
    torch::Tensor loss = loss_of();
    loss.backward();
    const LayerWeights& L = m.model->weights().layers[2];
    REQUIRE(L.W_Q.grad().defined());
    REQUIRE(m.model->weights().W_E.grad().defined());
    // Finite difference on a few entries of W_Q (layer 2) and W_in (layer 4).
    for (auto [tensor, index] : {std::pair<at::Tensor, int64_t>{L.W_Q, 17}, {L.W_Q, 300},
                                 {m.model->weights().layers[4].W_in, 1234}}) {
        double analytic = tensor.grad().view(-1)[index].item<double>();
        const double eps = 1e-6;
        double before = 0, after = 0;
        {
            torch::NoGradGuard g;
            tensor.view(-1)[index] += eps;
        }
        after = loss_of().item<double>();
        {
            torch::NoGradGuard g;
            tensor.view(-1)[index] -= 2 * eps;
        }
        before = loss_of().item<double>();
        {
            torch::NoGradGuard g;
            tensor.view(-1)[index] += eps;
        }
        double numeric = (after - before) / (2 * eps);
        CHECK(analytic == Approx(numeric).margin(1e-7).epsilon(1e-4));
    }
    // Frozen again: forward is no longer recorded.
    m.model->disable_training();
    CHECK_FALSE(m.model->forward(tokens).requires_grad());
}
