/*
 * rng.c: the deterministic generator behind every synthetic byte, name and UUID of a created device.
 * xoshiro256** seeded through splitmix64 from (seed, label): each stream is named by a label (a file's
 * path, "uuid:<role>", ...) so that a stream's output never depends on how many values other streams
 * drew, which keeps devices byte-identical for a seed even when the generation order changes. Not
 * for secrets: it is fast and predictable by design. rand() is never used.
 */
#include "device_internal.h"

#include <stdio.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void dev_rng_seed(dev_rng_t *r, uint64_t seed, const char *label)
{
    uint64_t x = seed ^ fnv1a64(label);
    /* mix the seed once more so that seed and label cannot cancel each other trivially */
    x = splitmix64(&x) ^ rotl(fnv1a64(label), 17);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t dev_rng_next(dev_rng_t *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t dev_rng_below(dev_rng_t *r, uint64_t n)
{
    /* rejection sampling: no modulo bias, so that distributions are what the docs say */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = dev_rng_next(r);
    while (v >= limit);
    return v % n;
}

void dev_rng_fill(dev_rng_t *r, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len >= 8) {
        uint64_t v = dev_rng_next(r);
        memcpy(p, &v, 8); /* host order: fine, the only consumer is this machine's files */
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t v = dev_rng_next(r);
        memcpy(p, &v, len);
    }
}

void dev_uuid(uint64_t seed, const char *label, char out[37])
{
    dev_rng_t r;
    uint8_t b[16];
    char full[128];
    snprintf(full, sizeof full, "uuid:%s", label);
    dev_rng_seed(&r, seed, full);
    for (int i = 0; i < 16; i += 8) {
        uint64_t v = dev_rng_next(&r);
        for (int j = 0; j < 8; j++)
            b[i + j] = (uint8_t)(v >> (8 * j));
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 layout, as Apple's tools emit */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}
