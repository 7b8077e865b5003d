/*
 * mkbackup.c: ferry_mkbackup, a test and benchmark tool that writes a deterministic synthetic backup
 * with the streaming writer:
 *
 *     ferry_mkbackup OUT_UDID_DIR --files N --size TOTAL_BYTES [--seed K] [--password-env VAR] [--dpic N]
 *
 * The tree looks like a device's (HomeDomain, CameraRollDomain/Media/DCIM/1xxAPPLE/IMG_xxxx.JPG,
 * AppDomain-com.example.appN/Documents/...), directories come before files, and the N regular files'
 * sizes add up to exactly TOTAL_BYTES, with some empty files, sizes that are not multiples of 16, a
 * few symlinks and one non-ASCII path. Everything (paths, sizes, content, metadata) is a function of
 * the seed and the file's index only, so two runs with the same arguments hold the same plaintext
 * (keys are random, so ciphertext differs). Content is generated and streamed in 1 MiB pieces, never
 * held whole. The password comes from the environment variable named by --password-env, never argv.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry/backup.h"

#define PIECE (1u << 20)
#define BASE_DATE 1700000000
#define PHOTOS_PER_FOLDER 1000
#define APP_DIRS 8
#define NONASCII_PATH "Documents/note \xc3\xa9\xc3\xa8 \xe6\x97\xa5\xe6\x9c\xac.txt"

typedef struct {
    const char *out;
    uint64_t files, total, seed;
    const char *password_env;
    uint32_t dpic;
} args_t;

/* The layout decided from N: how many photos, home files and app files, and how many apps. */
typedef struct {
    uint64_t photos, homes, apps_files;
    unsigned napps;
} layout_t;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t file_seed(const args_t *a, uint64_t i)
{
    uint64_t s = a->seed * 0xD1B54A32D192ED03ull ^ (i + 1) * 0x9E3779B97F4A7C15ull;
    splitmix(&s);
    return s;
}

/* ---- what file i is --------------------------------------------------------------------------- */

enum { KIND_NONASCII, KIND_PHOTO, KIND_HOME, KIND_APP };

static int file_kind(uint64_t i)
{
    if (i == 0)
        return KIND_NONASCII;
    unsigned r = (unsigned)(i % 10);
    return r < 3 ? KIND_PHOTO : r < 5 ? KIND_HOME : KIND_APP;
}

/* The rank of file i among the files of its kind: each group of ten indices holds 3 photos, 2 home
 * files and 5 app files, except that index 0 is the non-ASCII file instead of a photo. */
static uint64_t kind_rank(uint64_t i)
{
    uint64_t g = i / 10, r = i % 10;
    switch (file_kind(i)) {
    case KIND_PHOTO: return g * 3 + r - 1;
    case KIND_HOME: return g * 2 + (r - 3);
    case KIND_APP: return g * 5 + (r - 5);
    default: return 0;
    }
}

static layout_t make_layout(uint64_t nfiles)
{
    layout_t l = {0, 0, 0, 0};
    for (uint64_t i = 1; i < nfiles; i++) {
        int k = file_kind(i);
        if (k == KIND_PHOTO)
            l.photos++;
        else if (k == KIND_HOME)
            l.homes++;
        else
            l.apps_files++;
    }
    l.napps = (unsigned)(1 + l.apps_files / 400);
    if (l.napps > 16)
        l.napps = 16;
    return l;
}

static void file_path(const layout_t *l, uint64_t i, char *domain, size_t dsz, char *rel, size_t rsz)
{
    uint64_t r = kind_rank(i);
    switch (file_kind(i)) {
    case KIND_NONASCII:
        snprintf(domain, dsz, "HomeDomain");
        snprintf(rel, rsz, "%s", NONASCII_PATH);
        break;
    case KIND_PHOTO:
        snprintf(domain, dsz, "CameraRollDomain");
        snprintf(rel, rsz, "Media/DCIM/%" PRIu64 "APPLE/IMG_%04" PRIu64 ".JPG", 100 + r / PHOTOS_PER_FOLDER, r + 1);
        break;
    case KIND_HOME:
        snprintf(domain, dsz, "HomeDomain");
        snprintf(rel, rsz, "Library/%s/item%06" PRIu64 ".%s", r % 2 ? "Preferences" : "SMS/Attachments", r,
                 r % 2 ? "plist" : "dat");
        break;
    default:
        snprintf(domain, dsz, "AppDomain-com.example.app%" PRIu64, r % l->napps);
        snprintf(rel, rsz, "Documents/dir%02" PRIu64 "/file_%06" PRIu64 ".dat", (r / l->napps) % APP_DIRS, r);
        break;
    }
}

/* ---- sizes: weights scaled so that they add up to TOTAL exactly ---------------------------------- */

static uint64_t file_weight(const args_t *a, uint64_t i)
{
    if (i != 0 && i % 53 == 17)
        return 0; /* an empty file */
    uint64_t s = file_seed(a, i) ^ 0x5851F42D4C957F2Dull;
    uint64_t r = splitmix(&s);
    return (1000 + r % 1000) << ((r >> 32) % 11); /* roughly log-uniform over three decades */
}

typedef struct {
    uint64_t wsum;     /* sum of weights */
    uint64_t leftover; /* TOTAL minus the sum of the floors, handed out 1 byte each to the first files */
} sizing_t;

static uint64_t floor_size(const args_t *a, const sizing_t *z, uint64_t i)
{
    if (z->wsum == 0)
        return 0;
    return (uint64_t)((unsigned __int128)a->total * file_weight(a, i) / z->wsum);
}

static sizing_t make_sizing(const args_t *a)
{
    sizing_t z = {0, 0};
    for (uint64_t i = 0; i < a->files; i++)
        z.wsum += file_weight(a, i);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < a->files; i++)
        sum += floor_size(a, &z, i);
    z.leftover = a->total - sum; /* < number of non-empty files */
    return z;
}

/* The leftover bytes go to the first non-empty files; *given counts them as we go in index order. */
static uint64_t file_size(const args_t *a, const sizing_t *z, uint64_t i, uint64_t *given)
{
    uint64_t s = floor_size(a, z, i);
    if (file_weight(a, i) > 0 && *given < z->leftover) {
        (*given)++;
        s++;
    }
    return s;
}

static int32_t file_class(uint64_t i)
{
    return i % 7 == 0 ? 4 : i % 11 == 0 ? 1 : i % 13 == 0 ? 2 : 3;
}

/* ---- the tree ---------------------------------------------------------------------------------- */

static int add_dirs(ferry_writer_t *w, const layout_t *l, uint64_t *ndirs)
{
    static const char *const home[] = {"", "Documents", "Library", "Library/Preferences", "Library/SMS",
                                       "Library/SMS/Attachments"};
    static const char *const camera[] = {"", "Media", "Media/DCIM"};
    static const char *const app[] = {"", "Documents", "Library", "Library/Caches"};
    ferry_file_meta_t m = {.mtime = BASE_DATE, .ctime = BASE_DATE, .birth = BASE_DATE};
    int rc = 0;
    char rel[64], dom[64];
    for (size_t i = 0; rc == 0 && i < sizeof home / sizeof *home; i++, (*ndirs)++)
        rc = ferry_writer_add_dir(w, "HomeDomain", home[i], &m);
    for (size_t i = 0; rc == 0 && l->photos && i < sizeof camera / sizeof *camera; i++, (*ndirs)++)
        rc = ferry_writer_add_dir(w, "CameraRollDomain", camera[i], &m);
    for (uint64_t f = 0; rc == 0 && f * PHOTOS_PER_FOLDER < l->photos; f++, (*ndirs)++) {
        snprintf(rel, sizeof rel, "Media/DCIM/%" PRIu64 "APPLE", 100 + f);
        rc = ferry_writer_add_dir(w, "CameraRollDomain", rel, &m);
    }
    for (unsigned k = 0; rc == 0 && l->apps_files && k < l->napps; k++) {
        snprintf(dom, sizeof dom, "AppDomain-com.example.app%u", k);
        for (size_t i = 0; rc == 0 && i < sizeof app / sizeof *app; i++, (*ndirs)++)
            rc = ferry_writer_add_dir(w, dom, app[i], &m);
        for (unsigned d = 0; rc == 0 && d < APP_DIRS; d++, (*ndirs)++) {
            snprintf(rel, sizeof rel, "Documents/dir%02u", d);
            rc = ferry_writer_add_dir(w, dom, rel, &m);
        }
    }
    return rc;
}

static int add_symlinks(ferry_writer_t *w, uint64_t *nlinks)
{
    static const char *const links[][2] = {
        {"Library/Preferences/com.apple.springboard.link", "/private/var/mobile/Library/Preferences/com.apple.springboard.plist"},
        {"Library/SMS/current", "/var/mobile/Library/SMS/Attachments"},
        {"Documents/latest", "/var/mobile/Documents"},
    };
    ferry_file_meta_t m = {.mtime = BASE_DATE, .ctime = BASE_DATE, .birth = BASE_DATE};
    for (size_t i = 0; i < sizeof links / sizeof *links; i++, (*nlinks)++) {
        int rc = ferry_writer_add_symlink(w, "HomeDomain", links[i][0], links[i][1], &m);
        if (rc)
            return rc;
    }
    return 0;
}

static void fill(uint64_t *state, uint8_t *buf, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v = splitmix(state);
        memcpy(buf + i, &v, 8);
    }
    if (i < len) {
        uint64_t v = splitmix(state);
        memcpy(buf + i, &v, len - i);
    }
}

static int add_file(ferry_writer_t *w, const args_t *a, const layout_t *l, uint64_t i, uint64_t size, uint8_t *buf)
{
    char dom[64], rel[128];
    file_path(l, i, dom, sizeof dom, rel, sizeof rel);
    ferry_file_meta_t m = {
        .mode = i % 5 == 0 ? 0600 : 0644,
        .mtime = BASE_DATE + (int64_t)(i % 86400),
        .ctime = BASE_DATE + (int64_t)(i % 86400),
        .birth = BASE_DATE,
        .protection_class = file_class(i),
    };
    ferry_writer_file_t *f;
    int rc = ferry_writer_file_begin(w, dom, rel, &m, &f);
    if (rc)
        return rc;
    uint64_t state = file_seed(a, i);
    uint64_t left = size;
    while (rc == 0 && left > 0) {
        size_t n = left > PIECE ? PIECE : (size_t)left;
        fill(&state, buf, n);
        rc = ferry_writer_file_write(f, buf, n);
        left -= n;
    }
    int rc2 = ferry_writer_file_end(f); /* also discards the file after a failed write */
    return rc ? rc : rc2;
}

/* ---- arguments --------------------------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -1;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10, end++;
    else if (*end == 'm' || *end == 'M')
        shift = 20, end++;
    else if (*end == 'g' || *end == 'G')
        shift = 30, end++;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "ferry_mkbackup: %s\n", msg);
    fprintf(stderr, "usage: ferry_mkbackup OUT_UDID_DIR --files N --size TOTAL_BYTES [--seed K] "
                    "[--password-env VAR] [--dpic N]\n");
    return 2;
}

static int parse_args(int argc, char **argv, args_t *a)
{
    int have_files = 0, have_size = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        uint64_t v = 0;
        if (o[0] != '-') {
            if (a->out)
                return usage("more than one output folder");
            a->out = o;
            continue;
        }
        if (i + 1 >= argc)
            return usage("an option is missing its value");
        const char *val = argv[++i];
        if (strcmp(o, "--password-env") == 0) {
            a->password_env = val;
            continue;
        }
        if (parse_u64(val, &v) != 0)
            return usage("option values are non-negative integers (k/M/G suffixes allowed)");
        if (strcmp(o, "--files") == 0)
            a->files = v, have_files = 1;
        else if (strcmp(o, "--size") == 0)
            a->total = v, have_size = 1;
        else if (strcmp(o, "--seed") == 0)
            a->seed = v;
        else if (strcmp(o, "--dpic") == 0) {
            if (v == 0 || v > UINT32_MAX)
                return usage("--dpic must be between 1 and 4294967295");
            a->dpic = (uint32_t)v;
        } else
            return usage("unknown option");
    }
    if (!a->out || !have_files || !have_size)
        return usage("OUT_UDID_DIR, --files and --size are required");
    if (a->files == 0)
        return usage("--files must be at least 1");
    return 0;
}

/* ---- main -------------------------------------------------------------------------------------- */

static plist_t make_applications(const layout_t *l)
{
    plist_t apps = plist_new_dict();
    for (unsigned k = 0; l->apps_files && k < l->napps; k++) {
        char id[64], path[128];
        snprintf(id, sizeof id, "com.example.app%u", k);
        snprintf(path, sizeof path, "/private/var/containers/Bundle/Application/%08X-0000-4000-8000-000000000000/App%u.app",
                 k, k);
        plist_t e = plist_new_dict();
        plist_dict_set_item(e, "CFBundleIdentifier", plist_new_string(id));
        plist_dict_set_item(e, "CFBundleVersion", plist_new_string("1"));
        plist_dict_set_item(e, "ContainerContentClass", plist_new_string("Data/Application"));
        plist_dict_set_item(e, "Path", plist_new_string(path));
        plist_dict_set_item(apps, id, e);
    }
    return apps;
}

static int run(const args_t *a, const char *password, uint64_t *ndirs, uint64_t *nlinks)
{
    layout_t l = make_layout(a->files);
    sizing_t z = make_sizing(a);
    const char *slash = strrchr(a->out, '/');
    ferry_writer_opts_t o = {
        .ident = {.udid = slash && slash[1] ? slash + 1 : a->out,
                  .product_type = "iPhone15,2",
                  .product_version = "17.5.1",
                  .build_version = "21F90",
                  .serial_number = "F00SYNTHETIC",
                  .device_name = "ferry synthetic iPhone",
                  .product_name = "iPhone 14 Pro",
                  .was_passcode_set = 1},
        .password = password,
        .password_len = password ? strlen(password) : 0,
        .kdf = {.dpic = a->dpic},
        .date = BASE_DATE,
        .is_full_backup = 1,
    };
    o.applications = make_applications(&l);
    uint8_t *buf = malloc(PIECE);
    ferry_writer_t *w = NULL;
    int rc = buf ? ferry_writer_open(a->out, &o, &w) : ferry_error_set(FERRY_ENOMEM, "out of memory");
    if (rc == 0)
        rc = add_dirs(w, &l, ndirs);
    if (rc == 0)
        rc = add_symlinks(w, nlinks);
    uint64_t given = 0;
    for (uint64_t i = 0; rc == 0 && i < a->files; i++)
        rc = add_file(w, a, &l, i, file_size(a, &z, i, &given), buf);
    if (rc == 0)
        rc = ferry_writer_commit(w);
    ferry_writer_free(w);
    plist_free(o.applications);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    args_t a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    char *password = NULL;
    if (a.password_env) {
        const char *p = getenv(a.password_env);
        if (!p || !*p) {
            fprintf(stderr, "ferry_mkbackup: the environment variable %s is not set or empty\n", a.password_env);
            return 2;
        }
        password = strdup(p);
        if (!password)
            return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t ndirs = 0, nlinks = 0;
    rc = run(&a, password, &ndirs, &nlinks);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (password) {
        ferry_wipe(password, strlen(password));
        free(password);
    }
    if (rc) {
        fprintf(stderr, "ferry_mkbackup: %s\n", ferry_error_last());
        return 1;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("ferry_mkbackup: wrote %" PRIu64 " files (%" PRIu64 " bytes), %" PRIu64 " directories, %" PRIu64
           " symlinks, %s, to %s in %.2f s (%.1f MiB/s)\n",
           a.files, a.total, ndirs, nlinks, a.password_env ? "encrypted" : "unencrypted", a.out, secs,
           secs > 0 ? (double)a.total / 1048576.0 / secs : 0.0);
    return 0;
}
