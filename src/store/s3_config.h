/*
 * s3_config.h: the S3 client's settings (s3_config.c): endpoint, credentials, region.
 */
#ifndef FERRY_S3_CONFIG_H
#define FERRY_S3_CONFIG_H

#include <stddef.h>
#include "ferry/common.h"

typedef struct {
    char *endpoint;   /* http(s)://host[:port], no trailing '/' */
    char *access_key;
    char *secret_key;
    char *region;
} ferry_s3_config_t;

int ferry_s3_config_load(ferry_s3_config_t *c);
void ferry_s3_config_clear(ferry_s3_config_t *c);

#endif
