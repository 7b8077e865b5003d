/*
 * plist_json.h: a property list written through the JSON writer of json.h, so that a command can
 * build one plist under Apple's key names and print it as JSON.
 */
#ifndef FERRY_CLI_PLIST_JSON_H
#define FERRY_CLI_PLIST_JSON_H

#include <plist/plist.h>

#include "json.h"

/* Dictionaries become objects (in the plist's key order), arrays arrays, strings strings, booleans
 * and integers themselves; dates are ISO 8601 UTC strings, data is base64, a real is an integer when
 * it is integral and otherwise its shortest exact text as a string (json.h writes no fractions). */
void cli_json_plist(cli_json_t *j, plist_t p);

#endif
