// The contraction planner against a brute-force enumeration of every pairwise order, and
// its peak memory against the written (left-to-right) order.
#include <mpno/surrogate/contraction_planner.h>
#include <mpno/surrogate/factorized_weight.h>

#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <limits>
#include <stdexcept>

using namespace mpno;

namespace
{
  /** The least cost over all pairwise orders, enumerated without pruning. */
  ContractionCost
  brute_force(const ContractionProblem &problem)
  {
    ContractionCost                        best{std::numeric_limits<double>::infinity(), 0.};
    ContractionOrder                       order;
    const std::function<void(std::size_t)> enumerate = [&](const std::size_t n_left) {
      if (n_left == 1)
        {
          const ContractionCost cost = evaluate_order(problem, order).cost;
          if (cost < best)
            best = cost;
          return;
        }
      for (std::size_t i = 0; i < n_left; ++i)
        for (std::size_t j = i + 1; j < n_left; ++j)
          {
            order.emplace_back(i, j);
            enumerate(n_left - 1);
            order.pop_back();
          }
    };
    enumerate(problem.inputs.size());
    return best;
  }

  /** 2D problems of method.md Sec. 2.2 with batch 8, 64 channels, 32 x 32 modes
   *  (weight [64, 64, 32, 17]) and the rank-0.05 factor sizes. */
  ContractionProblem
  tucker_2d()
  {
    // nikl,pqrs,ip,oq,kr,ls->nokl == abcd,fghi,bf,eg,ch,di->aecd
    const auto r = tucker_ranks({64, 64, 32, 17}, 0.05);
    return {{"nikl", "pqrs", "ip", "oq", "kr", "ls"},
            "nokl",
            {{'n', 8}, {'i', 64}, {'o', 64}, {'k', 32}, {'l', 17}, {'p', r[0]}, {'q', r[1]}, {'r', r[2]}, {'s', r[3]}}};
  }

  ContractionProblem
  cp_2d()
  {
    // nikl,r,ir,or,kr,lr->nokl == abcd,e,be,fe,ce,de->afcd
    return {{"nikl", "r", "ir", "or", "kr", "lr"},
            "nokl",
            {{'n', 8}, {'i', 64}, {'o', 64}, {'k', 32}, {'l', 17}, {'r', cp_rank({64, 64, 32, 17}, 0.05)}}};
  }
} // namespace

TEST(ContractionPlanner, MatchesBruteForceOnTuckerAndCP)
{
  for (const auto &problem : {tucker_2d(), cp_2d()})
    {
      const ContractionPlan plan = plan_contraction(problem);
      const ContractionCost best = brute_force(problem);
      EXPECT_EQ(plan.cost.flops, best.flops) << problem.equation();
      EXPECT_EQ(plan.cost.peak_elements, best.peak_elements) << problem.equation();
      EXPECT_EQ(plan.results.back(), problem.output);
      // The reported cost is the cost of the reported order.
      EXPECT_EQ(evaluate_order(problem, plan.order).cost.flops, plan.cost.flops);
    }
}

TEST(ContractionPlanner, TuckerNeedsAtMostHalfThePeakMemoryOfTheWrittenOrder)
{
  const ContractionProblem problem = tucker_2d();
  const ContractionPlan    planned = plan_contraction(problem);
  const ContractionPlan    written = evaluate_order(problem, written_order(problem.inputs.size()));
  std::cout << "2D Tucker " << problem.equation() << " (batch 8, 64 channels, 32 x 32 modes, rank 0.05):\n"
            << "  written order: " << written.cost.flops << " multiply-adds, peak " << written.cost.peak_elements
            << " intermediate elements\n"
            << "  planned order: " << planned.cost.flops << " multiply-adds, peak " << planned.cost.peak_elements
            << " intermediate elements (";
  for (const auto &result : planned.results)
    std::cout << " " << result;
  // FORK's order: rebuild the weight from core and factors, then one contraction with x.
  const ContractionPlan rebuild_first = evaluate_order(problem, {{1, 2}, {1, 4}, {1, 3}, {1, 2}, {0, 1}});
  std::cout << " )\n  weight first:  " << rebuild_first.cost.flops << " multiply-adds, peak "
            << rebuild_first.cost.peak_elements << " intermediate elements\n"
            << "  peak ratio written / planned = " << written.cost.peak_elements / planned.cost.peak_elements << "\n";
  EXPECT_LE(planned.cost.flops, rebuild_first.cost.flops);
  EXPECT_LE(2. * planned.cost.peak_elements, written.cost.peak_elements);
  EXPECT_LE(planned.cost.flops, written.cost.flops);
}

TEST(ContractionPlanner, HandComputedCostOfAThreeOperandChain)
{
  // ab,bc,cd->ad with a=2, b=3, c=4, d=5: (ab bc) costs 24 and leaves ac (8), then
  // (ac cd) costs 40 and gives ad (10): 64 multiply-adds, peak 8 + 10 = 18.
  const ContractionProblem problem{{"ab", "bc", "cd"}, "ad", {{'a', 2}, {'b', 3}, {'c', 4}, {'d', 5}}};
  const ContractionPlan    written = evaluate_order(problem, written_order(3));
  EXPECT_EQ(written.cost.flops, 64.);
  EXPECT_EQ(written.cost.peak_elements, 18.);
  // (bc cd) first: 60 + 30 = 90 multiply-adds; the planner keeps the written order.
  EXPECT_EQ(plan_contraction(problem).cost.flops, 64.);
}

TEST(ContractionPlanner, GreedyBeyondSixOperandsAndCache)
{
  // 3D Tucker: 7 operands.
  const ContractionProblem problem{
    {"niklm", "pqrst", "ip", "oq", "kr", "ls", "mt"},
    "noklm",
    {{'n', 4}, {'i', 16}, {'o', 16}, {'k', 8}, {'l', 8}, {'m', 5}, {'p', 8}, {'q', 8}, {'r', 4}, {'s', 4}, {'t', 3}}};
  const ContractionPlan plan = plan_contraction(problem);
  EXPECT_EQ(plan.order.size(), 6u);
  EXPECT_EQ(plan.results.back(), "noklm");
  EXPECT_LT(plan.cost.flops, evaluate_order(problem, written_order(7)).cost.flops);
  EXPECT_EQ(&cached_plan(problem), &cached_plan(problem));
  EXPECT_EQ(cached_plan(problem).cost.flops, plan.cost.flops);
}

TEST(ContractionPlanner, BadInputsAreRefused)
{
  const ContractionProblem problem{{"ab", "bc"}, "ac", {{'a', 2}, {'b', 3}}};
  EXPECT_THROW(plan_contraction(problem), std::invalid_argument); // no size for c
  const ContractionProblem ok{{"ab", "bc"}, "ac", {{'a', 2}, {'b', 3}, {'c', 4}}};
  EXPECT_THROW(evaluate_order(ok, {{1, 0}}), std::invalid_argument);
  EXPECT_THROW(evaluate_order(ok, {}), std::invalid_argument);
  EXPECT_THROW(plan_contraction(ContractionProblem{{"ab"}, "ab", {{'a', 1}, {'b', 1}}}), std::invalid_argument);
}
