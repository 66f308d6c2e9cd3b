/* args.h - key descriptions shared by several layer kinds (private). */
#ifndef NNRUN_LAYERS_ARGS_H
#define NNRUN_LAYERS_ARGS_H

#include <stddef.h>

#include "nnrun/layer.h"

#define NN_ARG_USE_BIAS(T)                                                              \
    {"use_bias", NN_ARG_BOOL, offsetof(T, use_bias), 0, 0, 1, 0, 1, NULL, 0,            \
     "add a bias vector"}
#define NN_ARG_KERNEL_INIT(T)                                                           \
    {"kernel_initializer", NN_ARG_ENUM, offsetof(T, kernel_init), 0, 0, 0, 0,           \
     NN_INIT_GLOROT_UNIFORM, nn_init_names, NN_INIT_COUNT, "initializer of the weights"}
#define NN_ARG_BIAS_INIT(T)                                                             \
    {"bias_initializer", NN_ARG_ENUM, offsetof(T, bias_init), 0, 0, 0, 0, NN_INIT_ZEROS, \
     nn_init_names, NN_INIT_COUNT, "initializer of the biases"}
#define NN_ARG_PADDING(T)                                                               \
    {"padding", NN_ARG_ENUM, offsetof(T, padding), 0, 0, 0, 0, NN_PAD_VALID,            \
     nn_padding_names, NN_PAD_COUNT, "valid (no padding) or same (output = ceil(in/stride))"}

#define NN_ARRAY_LEN(a) (int)(sizeof(a) / sizeof((a)[0]))

#endif
