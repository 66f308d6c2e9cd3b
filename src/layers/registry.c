/* registry.c - the table of layer kinds and the shared parameter init. */
#include <assert.h>
#include <string.h>

#include "nnrun/layer.h"

const struct nn_layer_ops *const nn_layer_kinds[NN_LAYER_COUNT] = {
    [NN_LAYER_DENSE] = &nn_layer_dense,
    [NN_LAYER_CONV2D] = &nn_layer_conv2d,
    [NN_LAYER_MAXPOOL2D] = &nn_layer_maxpool2d,
    [NN_LAYER_AVGPOOL2D] = &nn_layer_avgpool2d,
    [NN_LAYER_FLATTEN] = &nn_layer_flatten,
    [NN_LAYER_DROPOUT] = &nn_layer_dropout,
    [NN_LAYER_ACTIVATION] = &nn_layer_activation,
    [NN_LAYER_ADD] = &nn_layer_add,
    [NN_LAYER_CONCATENATE] = &nn_layer_concatenate,
    [NN_LAYER_GLOBAL_AVGPOOL2D] = &nn_layer_global_avgpool2d,
    [NN_LAYER_BATCHNORM] = &nn_layer_batchnorm,
};
static_assert(NN_LAYER_COUNT == 11, "add the new kind to nn_layer_kinds");

const struct nn_layer_ops *nn_layer_find(const char *name)
{
    for (int i = 0; i < NN_LAYER_COUNT; i++) {
        const struct nn_layer_ops *o = nn_layer_kinds[i];
        if (!strcmp(o->name, name)) return o;
        for (const char *const *a = o->aliases; a && *a; a++)
            if (!strcmp(*a, name)) return o;
    }
    return NULL;
}

void nn_layer_init_default(const struct nn_node *n, float *params, uint64_t seed)
{
    uint64_t stream = (uint64_t)n->param_off * 2;
    nn_init_fill(params, n->n_weights, n->kernel_init, n->fan_in, n->fan_out, seed, stream);
    nn_init_fill(params + n->n_weights, n->n_params - n->n_weights, n->bias_init, n->fan_in,
                 n->fan_out, seed, stream + 1);
}
