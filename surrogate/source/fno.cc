#include <mpno/surrogate/fno.h>
#include <mpno/surrogate/io_utils.h>

#include "configuration_text.h"

#include <torch/torch.h>

#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace mpno
{
  namespace
  {
    void
    check_choice(const std::string &entry, const std::string &value, const std::vector<std::string> &choices)
    {
      for (const auto &choice : choices)
        if (value == choice)
          return;
      std::string list;
      for (const auto &choice : choices)
        list += (list.empty() ? "" : ", ") + choice;
      throw std::invalid_argument("FNO entry " + entry + ": expected one of " + list + ", got '" + value + "'");
    }

    /** The whole of @p value as an integer or a double; throws naming @p key otherwise. */
    template <typename Number>
    Number
    parse_number(const std::string &key, const std::string &value)
    {
      std::size_t used = 0;
      Number      number{};
      try
        {
          if constexpr (std::is_integral_v<Number>)
            number = std::stoll(value, &used);
          else
            number = std::stod(value, &used);
        }
      catch (const std::logic_error &)
        {
          used = 0;
        }
      if (used == 0 || value.find_first_not_of(" \t", used) != std::string::npos)
        throw std::invalid_argument("FNO configuration: bad value '" + value + "' for key '" + key + "'");
      return number;
    }

    /** @p value with the fewest significant digits (up to 17) that read back exactly:
     *  "0.05", not "0.050000000000000003". */
    std::string
    shortest_exact(const double value)
    {
      for (int digits = 1;; ++digits)
        {
          std::ostringstream out;
          out.precision(digits);
          out << value;
          if (digits >= 17 || std::stod(out.str()) == value)
            return out.str();
        }
    }
  } // namespace

  void
  FNOOptions::validate() const
  {
    if (n_modes.empty() || n_modes.size() > 3)
      throw std::invalid_argument("FNO entry n_modes: expected 1 to 3 entries, got " + std::to_string(n_modes.size()));
    for (const auto m : n_modes)
      if (m < 1)
        throw std::invalid_argument("FNO entry n_modes: every entry must be >= 1, got " + std::to_string(m));
    const std::vector<std::pair<const char *, int64_t>> positive = {{"in_channels", in_channels},
                                                                    {"out_channels", out_channels},
                                                                    {"hidden_channels", hidden_channels},
                                                                    {"n_layers", n_layers}};
    for (const auto &[name, value] : positive)
      if (value < 1)
        throw std::invalid_argument(std::string("FNO entry ") + name + ": must be >= 1, got " + std::to_string(value));
    if (!(lifting_channel_ratio > 0) || !(projection_channel_ratio > 0) || !(channel_mlp_expansion > 0))
      throw std::invalid_argument("FNO entries lifting_channel_ratio, projection_channel_ratio and "
                                  "channel_mlp_expansion must be > 0");
    if (!(domain_padding >= 0) || !(domain_padding < 1))
      throw std::invalid_argument("FNO entry domain_padding: expected a fraction in [0, 1), got " +
                                  std::to_string(domain_padding));
    check_choice("fno_skip", fno_skip, {"linear", "soft-gating", "identity"});
    check_choice("channel_mlp_skip", channel_mlp_skip, {"linear", "soft-gating", "identity"});
    check_choice("norm", norm, {"none", "group_norm"});
    check_choice("positional_embedding", positional_embedding, {"grid", "none"});
    check_choice("domain_padding_mode", domain_padding_mode, {"one-sided", "symmetric"});
    check_choice("factorization", factorization, {"dense", "tucker", "cp", "tt"});
    check_choice("implementation", implementation, {"factorized", "reconstructed"});
    if (!(rank > 0) || !std::isfinite(rank))
      throw std::invalid_argument("FNO entry rank: expected a fraction > 0 of the dense parameter count, got " +
                                  std::to_string(rank));
  }

  std::string
  FNOOptions::to_text() const
  {
    std::ostringstream out;
    out.precision(17);
    out << "n_modes =";
    for (std::size_t j = 0; j < n_modes.size(); ++j)
      out << (j ? ", " : " ") << n_modes[j];
    out << "\nin_channels = " << in_channels << "\nout_channels = " << out_channels
        << "\nhidden_channels = " << hidden_channels << "\nn_layers = " << n_layers
        << "\nlifting_channel_ratio = " << lifting_channel_ratio
        << "\nprojection_channel_ratio = " << projection_channel_ratio
        << "\nchannel_mlp_expansion = " << channel_mlp_expansion << "\nfno_skip = " << fno_skip
        << "\nchannel_mlp_skip = " << channel_mlp_skip << "\nnorm = " << norm
        << "\npositional_embedding = " << positional_embedding << "\ndomain_padding = " << domain_padding
        << "\ndomain_padding_mode = " << domain_padding_mode << "\n";
    if (factorization != "dense")
      out << "factorization = " << factorization << "\nrank = " << shortest_exact(rank)
          << "\nimplementation = " << implementation << "\n";
    return out.str();
  }

  FNOOptions
  FNOOptions::from_text(const std::string &text)
  {
    FNOOptions                  options;
    const std::set<std::string> seen =
      io::read_configuration(text, "FNO", [&](const std::string &key, const std::string &value) {
        const auto integer = [&] { return parse_number<int64_t>(key, value); };
        const auto real    = [&] { return parse_number<double>(key, value); };
        if (key == "n_modes")
          {
            options.n_modes.clear();
            std::istringstream list(value);
            std::string        item;
            while (std::getline(list, item, ','))
              options.n_modes.push_back(parse_number<int64_t>(key, io::trim(item)));
          }
        else if (key == "in_channels")
          options.in_channels = integer();
        else if (key == "out_channels")
          options.out_channels = integer();
        else if (key == "hidden_channels")
          options.hidden_channels = integer();
        else if (key == "n_layers")
          options.n_layers = integer();
        else if (key == "lifting_channel_ratio")
          options.lifting_channel_ratio = real();
        else if (key == "projection_channel_ratio")
          options.projection_channel_ratio = real();
        else if (key == "channel_mlp_expansion")
          options.channel_mlp_expansion = real();
        else if (key == "fno_skip")
          options.fno_skip = value;
        else if (key == "channel_mlp_skip")
          options.channel_mlp_skip = value;
        else if (key == "norm")
          options.norm = value;
        else if (key == "positional_embedding")
          options.positional_embedding = value;
        else if (key == "domain_padding")
          options.domain_padding = real();
        else if (key == "domain_padding_mode")
          options.domain_padding_mode = value;
        else if (key == "factorization")
          options.factorization = value;
        else if (key == "rank")
          options.rank = real();
        else if (key == "implementation")
          options.implementation = value;
        else
          throw std::invalid_argument("FNO configuration: unknown key '" + key + "'");
      });
    io::require_keys(seen, {"n_modes", "in_channels", "out_channels", "hidden_channels", "n_layers"}, "FNO");
    options.validate();
    return options;
  }

  FNOImpl::FNOImpl(const FNOOptions &options, const PrecisionPolicy &precision)
    : options_(options)
    , precision_(std::make_shared<PrecisionPolicy>(precision))
  {
    options_.validate();
    const int64_t d      = static_cast<int64_t>(options_.n_modes.size());
    const int64_t hidden = options_.hidden_channels;
    const int64_t in     = options_.in_channels + (options_.positional_embedding == "grid" ? d : 0);
    const auto    scaled = [&](const double ratio) {
      return std::max<int64_t>(1, std::llround(ratio * static_cast<double>(hidden)));
    };
    lifting    = register_module("lifting", ChannelMLP(in, hidden, scaled(options_.lifting_channel_ratio), 2));
    fno_blocks = register_module("fno_blocks",
                                 FNOBlocks(SpectralConvOptions(hidden, hidden, options_.n_modes)
                                             .factorization(options_.factorization)
                                             .rank(options_.rank)
                                             .implementation(options_.implementation),
                                           options_.n_layers,
                                           options_.channel_mlp_expansion,
                                           options_.fno_skip,
                                           options_.channel_mlp_skip,
                                           options_.norm,
                                           precision_));
    projection =
      register_module("projection",
                      ChannelMLP(hidden, options_.out_channels, scaled(options_.projection_channel_ratio), 2));
  }

  void
  FNOImpl::set_precision(const PrecisionPolicy &precision)
  {
    *precision_ = precision;
  }

  int64_t
  FNOImpl::n_spectral_parameters() const
  {
    int64_t n = 0;
    for (const auto &conv : fno_blocks->convs)
      n += conv->n_weight_parameters();
    return n;
  }

  torch::Tensor
  FNOImpl::grid_embedding(const torch::Tensor &x)
  {
    const std::vector<int64_t> shape(x.sizes().begin() + 2, x.sizes().end());
    auto                       key = shape;
    key.push_back(static_cast<int64_t>(x.device().type()));
    auto found = grid_cache_.find(key);
    if (found == grid_cache_.end())
      {
        std::vector<torch::Tensor> axes;
        for (const int64_t n : shape)
          axes.push_back(torch::arange(n, torch::TensorOptions(torch::kFloat).device(x.device())) /
                         static_cast<double>(n)); // linspace(0, 1, n + 1)[:-1]
        found = grid_cache_.emplace(key, torch::stack(torch::meshgrid(axes, "ij")).unsqueeze(0)).first;
      }
    auto expanded_shape = found->second.sizes().vec();
    expanded_shape[0]   = x.size(0);
    return torch::cat({x.to(torch::kFloat), found->second.expand(expanded_shape)}, 1);
  }

  torch::Tensor
  FNOImpl::forward(torch::Tensor x)
  {
    const int64_t d = static_cast<int64_t>(options_.n_modes.size());
    if (x.dim() != d + 2 || x.size(1) != options_.in_channels)
      {
        std::ostringstream got;
        got << x.sizes();
        throw std::invalid_argument("FNO: expected input [batch, " + std::to_string(options_.in_channels) +
                                    ", n_1.. n_" + std::to_string(d) + "], got " + got.str());
      }
    const std::vector<int64_t> grid(x.sizes().begin() + 2, x.sizes().end());
    // Refuse what the device cannot do before any work (the lifting would otherwise fail
    // inside LibTorch on a float16 CPU GEMM); the spectral layers check their padded grid.
    precision_->check_supported(x.device(), {});
    if (options_.positional_embedding == "grid")
      x = grid_embedding(x);
    x = lifting->forward(x.to(precision_->activation_dtype(x.device())));

    // Domain padding with zeros: round(p n) cells per axis at the end ("one-sided") or
    // split between both ends ("symmetric"); removed again before the projection.
    std::vector<int64_t> pad_before(d, 0), pad_after(d, 0);
    if (options_.domain_padding > 0)
      {
        std::vector<int64_t> pad; // torch order: last axis first
        for (int64_t j = d - 1; j >= 0; --j)
          {
            const int64_t total = std::llround(options_.domain_padding * static_cast<double>(grid[j]));
            pad_before[j]       = options_.domain_padding_mode == "symmetric" ? total / 2 : 0;
            pad_after[j]        = total - pad_before[j];
            pad.push_back(pad_before[j]);
            pad.push_back(pad_after[j]);
          }
        x = torch::constant_pad_nd(x, pad, 0.);
      }
    for (int64_t i = 0; i < fno_blocks->n_layers(); ++i)
      x = fno_blocks->forward(x, i);
    for (int64_t j = 0; j < d; ++j)
      if (pad_before[j] + pad_after[j] > 0)
        x = x.narrow(2 + j, pad_before[j], grid[j]);
    return projection->forward(x).to(torch::kFloat);
  }
} // namespace mpno
