// The W1 training (the book network, 60 epochs × 4 rows) timed in-process, no Python: the
// hand-written loop of book_loop.cpp against grokprop's kernel (grokprop::train, the header-only
// loop _core.train runs), compiled together with the same flags. Built and run by
// scripts/bench_handwritten.py, which passes the seed-1 starting weights (16 numbers) as
// arguments. Prints one JSON object: median CPU time of each, and whether both gave the same
// bits.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "book_loop.cpp"
#include "grokprop/train.hpp"

namespace {

double cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

template <class F>
double median_seconds(F&& run, int per_round, int rounds) {
    std::vector<double> times;
    for (int round = 0; round < rounds; ++round) {
        const double start = cpu_seconds();
        for (int i = 0; i < per_round; ++i) {
            run();
        }
        times.push_back((cpu_seconds() - start) / per_round);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 17) {
        std::fprintf(stderr, "usage: %s w01[12] w12[4]\n", argv[0]);
        return 2;
    }
    double start01[12];
    double start12[4];
    for (int i = 0; i < 12; ++i) start01[i] = std::strtod(argv[1 + i], nullptr);
    for (int i = 0; i < 4; ++i) start12[i] = std::strtod(argv[13 + i], nullptr);
    const double x[12] = {1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1};
    const double y[4] = {1, 1, 0, 0};
    constexpr int epochs = 60;

    double hand01[12], hand12[4], hand_errors[epochs];
    double ours01[12], ours12[4], ours_errors[epochs];
    grokprop::Layer<double> layers[2] = {{ours01, 3, 4}, {ours12, 4, 1}};
    const grokprop::TrainProblem<double> problem{
        layers, 2, x, y, 4, 0.2, epochs, 1, grokprop::Activation::relu, ours_errors};
    std::vector<double> workspace(grokprop::train_workspace_size(problem) + 8);

    const auto hand = [&] {
        std::memcpy(hand01, start01, sizeof hand01);
        std::memcpy(hand12, start12, sizeof hand12);
        book_loop(hand01, hand12, x, y, 0.2, epochs, hand_errors);
    };
    const auto ours = [&] {
        std::memcpy(ours01, start01, sizeof ours01);
        std::memcpy(ours12, start12, sizeof ours12);
        grokprop::train(problem, workspace.data());
    };
    hand();
    ours();
    const bool same = std::memcmp(hand_errors, ours_errors, sizeof hand_errors) == 0 &&
                      std::memcmp(hand01, ours01, sizeof hand01) == 0 &&
                      std::memcmp(hand12, ours12, sizeof hand12) == 0;
    const double hand_s = median_seconds(hand, 2000, 21);
    const double ours_s = median_seconds(ours, 2000, 21);
    std::printf("{\"handwritten_s\": %.6e, \"grokprop_s\": %.6e, \"bitwise_equal\": %s, "
                "\"last_error\": %.12g}\n",
                hand_s, ours_s, same ? "true" : "false", hand_errors[epochs - 1]);
    return same ? 0 : 1;
}
