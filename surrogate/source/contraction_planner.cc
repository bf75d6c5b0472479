#include <mpno/surrogate/contraction_planner.h>

#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>

namespace mpno
{
  namespace
  {
    double
    size_of(const ContractionProblem &problem, const std::string &labels)
    {
      double n = 1.;
      for (const char label : labels)
        {
          const auto found = problem.sizes.find(label);
          if (found == problem.sizes.end())
            throw std::invalid_argument(std::string("contraction planner: no size for label '") + label + "' in " +
                                        problem.equation());
          n *= static_cast<double>(found->second);
        }
      return n;
    }

    /** One pairwise step on the current operand list (intermediates marked). */
    struct State
    {
      std::vector<std::string> labels;
      std::vector<bool>        intermediate;
      double                   live = 0.; ///< elements of the live intermediates
    };

    /** The result labels of contracting @p a and @p b: the labels of either that the
     *  output or another remaining operand (@p others) still needs, in order of appearance. */
    std::string
    result_labels(const std::string &a,
                  const std::string &b,
                  const std::string &others,
                  const std::string &output,
                  const bool         last)
    {
      if (last)
        return output;
      std::string result;
      for (const char label : a + b)
        if (result.find(label) == std::string::npos &&
            (output.find(label) != std::string::npos || others.find(label) != std::string::npos))
          result += label;
      return result;
    }

    /** Apply step (i, j) to @p state; add its cost to @p cost; return the result labels. */
    std::string
    apply_step(const ContractionProblem &problem,
               State                    &state,
               const std::size_t         i,
               const std::size_t         j,
               ContractionCost          &cost)
    {
      std::string others;
      for (std::size_t k = 0; k < state.labels.size(); ++k)
        if (k != i && k != j)
          others += state.labels[k];
      const bool        last   = state.labels.size() == 2;
      const std::string result = result_labels(state.labels[i], state.labels[j], others, problem.output, last);
      std::string       all    = state.labels[i];
      for (const char label : state.labels[j])
        if (all.find(label) == std::string::npos)
          all += label;
      for (const char label : result)
        if (all.find(label) == std::string::npos) // an output label no operand has
          throw std::invalid_argument(std::string("contraction planner: output label '") + label +
                                      "' is on no operand in " + problem.equation());
      cost.flops += size_of(problem, all);
      const double result_size = size_of(problem, result);
      cost.peak_elements       = std::max(cost.peak_elements, state.live + result_size);
      for (const std::size_t k : {j, i}) // j > i: erase j first
        {
          if (state.intermediate[k])
            state.live -= size_of(problem, state.labels[k]);
          state.labels.erase(state.labels.begin() + static_cast<std::ptrdiff_t>(k));
          state.intermediate.erase(state.intermediate.begin() + static_cast<std::ptrdiff_t>(k));
        }
      state.labels.push_back(result);
      state.intermediate.push_back(true);
      state.live += result_size;
      return result;
    }

    State
    initial_state(const ContractionProblem &problem)
    {
      if (problem.inputs.size() < 2)
        throw std::invalid_argument("contraction planner: need at least 2 operands, got " + problem.equation());
      return {problem.inputs, std::vector<bool>(problem.inputs.size(), false), 0.};
    }
  } // namespace

  std::string
  ContractionProblem::equation() const
  {
    std::string text;
    for (std::size_t k = 0; k < inputs.size(); ++k)
      text += (k ? "," : "") + inputs[k];
    return text + "->" + output;
  }

  ContractionPlan
  evaluate_order(const ContractionProblem &problem, const ContractionOrder &order)
  {
    State state = initial_state(problem);
    if (order.size() + 1 != problem.inputs.size())
      throw std::invalid_argument("contraction planner: an order for " + problem.equation() + " needs " +
                                  std::to_string(problem.inputs.size() - 1) + " steps, got " +
                                  std::to_string(order.size()));
    ContractionPlan plan;
    plan.order = order;
    for (const auto &[i, j] : order)
      {
        if (!(i < j) || j >= state.labels.size())
          throw std::invalid_argument("contraction planner: step (" + std::to_string(i) + ", " + std::to_string(j) +
                                      ") out of range for " + std::to_string(state.labels.size()) + " operands");
        plan.results.push_back(apply_step(problem, state, i, j, plan.cost));
      }
    return plan;
  }

  ContractionOrder
  written_order(const std::size_t n_operands)
  {
    ContractionOrder order;
    if (n_operands < 2)
      return order;
    order.emplace_back(0, 1);
    // The list is then [op2, ..., op(n-1), result]: contract its first with its last.
    for (std::size_t remaining = n_operands - 1; remaining >= 2; --remaining)
      order.emplace_back(0, remaining - 1);
    return order;
  }

  ContractionPlan
  plan_contraction(const ContractionProblem &problem)
  {
    const State start = initial_state(problem);
    for (const auto &labels : problem.inputs)
      size_of(problem, labels); // every label has a size
    size_of(problem, problem.output);

    if (problem.inputs.size() <= 6)
      {
        ContractionCost  best_cost{std::numeric_limits<double>::infinity(), 0.};
        ContractionOrder best, current;
        const std::function<void(const State &, const ContractionCost &)> search = [&](const State           &state,
                                                                                       const ContractionCost &cost) {
          if (!(cost < best_cost)) // costs only grow: prune
            return;
          if (state.labels.size() == 1)
            {
              best_cost = cost;
              best      = current;
              return;
            }
          for (std::size_t i = 0; i < state.labels.size(); ++i)
            for (std::size_t j = i + 1; j < state.labels.size(); ++j)
              {
                State           next      = state;
                ContractionCost next_cost = cost;
                apply_step(problem, next, i, j, next_cost);
                current.emplace_back(i, j);
                search(next, next_cost);
                current.pop_back();
              }
        };
        search(start, ContractionCost{});
        return evaluate_order(problem, best);
      }

    State            state = start;
    ContractionOrder order;
    while (state.labels.size() > 1)
      {
        std::pair<std::size_t, std::size_t> best_pair{0, 1};
        std::pair<double, double>           best_key{std::numeric_limits<double>::infinity(), 0.};
        for (std::size_t i = 0; i < state.labels.size(); ++i)
          for (std::size_t j = i + 1; j < state.labels.size(); ++j)
            {
              State                           trial = state;
              ContractionCost                 step;
              const auto                      result = apply_step(problem, trial, i, j, step);
              const std::pair<double, double> key{step.flops, size_of(problem, result)};
              if (key < best_key)
                {
                  best_key  = key;
                  best_pair = {i, j};
                }
            }
        ContractionCost ignored;
        apply_step(problem, state, best_pair.first, best_pair.second, ignored);
        order.push_back(best_pair);
      }
    return evaluate_order(problem, order);
  }

  const ContractionPlan &
  cached_plan(const ContractionProblem &problem)
  {
    static std::mutex                             mutex;
    static std::map<std::string, ContractionPlan> cache;
    std::string                                   key = problem.equation();
    for (const auto &[label, size] : problem.sizes)
      key += std::string(" ") + label + "=" + std::to_string(size);
    const std::lock_guard<std::mutex> lock(mutex);
    auto                              found = cache.find(key);
    if (found == cache.end())
      found = cache.emplace(key, plan_contraction(problem)).first;
    return found->second;
  }
} // namespace mpno
