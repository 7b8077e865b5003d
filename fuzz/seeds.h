/*
 * seeds.h: what the seed generator's files share (seeds.c, seeds_emu.c, seeds_mdm.c): writing one
 * seed, and a growable byte buffer to assemble protocol streams in.
 */
#ifndef FERRY_FUZZ_SEEDS_H
#define FERRY_FUZZ_SEEDS_H

#include <stddef.h>
#include <stdint.h>

#include <plist/plist.h>

/* Writes OUT_DIR/gen-NN-name (seeds.c). */
void seed_put(const char *name, const void *data, size_t len);

typedef struct {
    uint8_t *p;
    size_t len, cap;
} sbuf_t;

void sb_add(sbuf_t *b, const void *data, size_t len);
void sb_u8(sbuf_t *b, uint8_t v);
void sb_u16le(sbuf_t *b, uint16_t v);
void sb_u32be(sbuf_t *b, uint32_t v);
void sb_u32le(sbuf_t *b, uint32_t v);
void sb_u64le(sbuf_t *b, uint64_t v);
/* u32BE length | plist, XML or binary (lockdownd, notification_proxy, DeviceLink framing). */
void sb_framed(sbuf_t *b, plist_t p, int xml);
/* The buffer as one seed, then emptied. */
void sb_put(sbuf_t *b, const char *name);

/* Per target (seeds_emu.c, seeds_mdm.c). */
void seeds_usbmux(void);
void seeds_lockdown(void);
void seeds_afc(void);
void seeds_devicelink(void);
void seeds_profile(const char *fixtures);
void seeds_mdm_server(void);
void seeds_mdm_device(void);

#endif
