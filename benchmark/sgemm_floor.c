/* The floor under one SGD update of the lesson's MLP: its matrix products alone,
 * through the same sgemm_ that Theano's compiled code calls, and this machine's
 * single-thread SGEMM peak. benchmark/bench.py compiles it with Theano's blas.ldflags
 * (so sgemm_ is the very BLAS Theano links) and runs it:
 *
 *     sgemm_floor REPEATS BATCH SIZE0 SIZE1 ... (e.g. 2000 16 1200 256 64 1)
 *
 * or, for any other network (the second lesson's convolutions, as im2col turns them
 * into products with the batch in one matrix), a list of products M,N,K,P:
 *
 *     sgemm_floor REPEATS BATCH gemms M,N,K,P ...
 *
 * each of them C[M,N] = A[M,K] B[K,N] forwards, then A's gradient C B^T and, when
 * P is 3 rather than 2, B's: A^T C (for a convolution, A is its kernels, B the
 * columns im2col makes of its input, whose gradient the first layer needs not).
 *
 * It prints: flops=F products_us=T peak_gflops=P
 * (T: the median time of an update's products; P: the best of 10 1024^3 products).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc);

/* Row-major C[M,N] = alpha op(A) op(B) + beta C, handed to the column-major BLAS
 * as C^T = op(B)^T op(A)^T: what Theano's Dot22 and Gemm do with C-ordered arrays. */
static void gemm(char ta, char tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc) {
    sgemm_(&tb, &ta, &N, &M, &K, &alpha, B, &ldb, A, &lda, &beta, C, &ldc);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static float *matrix(long rows, long cols) {
    float *m = malloc(sizeof(float) * rows * cols);
    for (long i = 0; i < rows * cols; i++) m[i] = 0.01f * (float)((i * 7919) % 201 - 100);
    return m;
}

static int ascending(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MAX_LAYERS 16


static double peak_gflops(void) {
    int big = 1024;
    float *A = matrix(big, big), *B = matrix(big, big), *C = matrix(big, big);
    double best = 1e30;
    for (int r = 0; r < 12; r++) {
        double started = now();
        gemm('N', 'N', big, big, big, 1.0f, A, big, B, big, 0.0f, C, big);
        double seconds = now() - started;
        if (r >= 2 && seconds < best) best = seconds;
    }
    return 2.0 * big * big * big / best / 1e9;
}

#define MAX_GEMMS 32

static int gemms_main(int repeats, int count, char **specs) {
    int M[MAX_GEMMS], N[MAX_GEMMS], K[MAX_GEMMS], P[MAX_GEMMS];
    float *A[MAX_GEMMS], *B[MAX_GEMMS], *C[MAX_GEMMS], *dA[MAX_GEMMS], *dB[MAX_GEMMS];
    double flops = 0;
    if (count < 1 || count > MAX_GEMMS) {
        fprintf(stderr, "1 to %d products, please\n", MAX_GEMMS);
        return 2;
    }
    for (int i = 0; i < count; i++) {
        if (sscanf(specs[i], "%d,%d,%d,%d", &M[i], &N[i], &K[i], &P[i]) != 4 || P[i] < 2 || P[i] > 3) {
            fprintf(stderr, "not M,N,K,P with P 2 or 3: %s\n", specs[i]);
            return 2;
        }
        A[i] = matrix(M[i], K[i]), B[i] = matrix(K[i], N[i]), C[i] = matrix(M[i], N[i]);
        dA[i] = matrix(M[i], K[i]), dB[i] = matrix(K[i], N[i]);   /* the gradients, apart: no growth */
        flops += 2.0 * P[i] * M[i] * N[i] * K[i];
    }
    double *times = malloc(sizeof(double) * repeats);
    for (int r = -repeats / 10 - 1; r < repeats; r++) {        /* the first tenth warms up */
        double started = now();
        for (int i = 0; i < count; i++)                        /* forward: C = A B */
            gemm('N', 'N', M[i], N[i], K[i], 1.0f, A[i], K[i], B[i], N[i], 0.0f, C[i], N[i]);
        for (int i = count - 1; i >= 0; i--) {
            if (P[i] == 3)                                     /* B's gradient: A^T C */
                gemm('T', 'N', K[i], N[i], M[i], 1.0f, A[i], K[i], C[i], N[i], 0.0f, dB[i], N[i]);
            /* A's gradient: C B^T */
            gemm('N', 'T', M[i], K[i], N[i], 1.0f, C[i], N[i], B[i], N[i], 0.0f, dA[i], K[i]);
        }
        if (r >= 0) times[r] = now() - started;
    }
    qsort(times, repeats, sizeof(double), ascending);
    printf("flops=%.0f products_us=%.2f peak_gflops=%.2f\n", flops, 1e6 * times[repeats / 2], peak_gflops());
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[3], "gemms"))
        return gemms_main(atoi(argv[1]), argc - 4, argv + 4);
    if (argc < 5 || argc - 3 > MAX_LAYERS + 1) {
        fprintf(stderr, "usage: %s REPEATS BATCH SIZE0 SIZE1 [SIZE2 ...]\n", argv[0]);
        return 2;
    }
    int repeats = atoi(argv[1]), b = atoi(argv[2]), layers = argc - 4;
    int n[MAX_LAYERS + 1];
    for (int i = 0; i <= layers; i++) n[i] = atoi(argv[3 + i]);

    /* activations[i]: b x n[i]; W[i]: n[i] x n[i+1]; delta[i]: b x n[i+1] */
    float *act[MAX_LAYERS + 1], *W[MAX_LAYERS], *delta[MAX_LAYERS];
    double flops = 0;
    for (int i = 0; i <= layers; i++) act[i] = matrix(b, n[i]);
    for (int i = 0; i < layers; i++) {
        W[i] = matrix(n[i], n[i + 1]);
        delta[i] = matrix(b, n[i + 1]);
        flops += 2.0 * 2.0 * b * n[i] * n[i + 1];               /* forward, gradient */
        if (i > 0) flops += 2.0 * b * n[i] * n[i + 1];          /* error sent back */
    }

    double *times = malloc(sizeof(double) * repeats);
    for (int r = -repeats / 10 - 1; r < repeats; r++) {        /* the first tenth warms up */
        double started = now();
        for (int i = 0; i < layers; i++)                       /* forward: act[i] @ W[i] */
            gemm('N', 'N', b, n[i + 1], n[i], 1.0f, act[i], n[i], W[i], n[i + 1], 0.0f,
                 act[i + 1], n[i + 1]);
        for (int i = layers - 1; i >= 0; i--) {
            if (i > 0)                                         /* back: delta[i] @ W[i].T */
                gemm('N', 'T', b, n[i], n[i + 1], 1.0f, delta[i], n[i + 1], W[i], n[i + 1], 0.0f,
                     delta[i - 1], n[i]);
            /* W[i] -= 0.01 act[i].T @ delta[i], in place */
            gemm('T', 'N', n[i], n[i + 1], b, -0.01f, act[i], n[i], delta[i], n[i + 1], 1.0f,
                 W[i], n[i + 1]);
        }
        if (r >= 0) times[r] = now() - started;
    }
    qsort(times, repeats, sizeof(double), ascending);
    printf("flops=%.0f products_us=%.2f peak_gflops=%.2f\n", flops, 1e6 * times[repeats / 2], peak_gflops());
    return 0;
}
