/* SPDX-License-Identifier: MIT */
#ifndef MIPART_CDI_INTERNAL_H
#define MIPART_CDI_INTERNAL_H

#include <stdbool.h>
#include <jansson.h>

/* Longest device name mipart makes: "<unique_id>-<xcp>" is 16 + 1 + 3 characters. */
#define CDI_NAME_MAX 64

/*
 * cdi_name_valid - whether name is a valid CDI device name: ASCII letters and digits, with '_',
 * '-', '.' and ':' allowed between; it starts and ends with a letter or a digit (CDI
 * api/producer/identifiers.go: ValidateDeviceName; SPEC.md "CDI Devices").
 */
bool cdi_name_valid(const char *name);

/*
 * cdi_add_device - append { "name": name, "containerEdits": edits } to the devices array, and
 * name to taken (an object used as a set). edits is not stolen: the device holds a reference.
 * Returns 0, -EEXIST when taken holds name already (a spec with two devices of one name is
 * refused whole by CDI: "invalid spec, multiple device"), -EINVAL for an invalid name, -ENOMEM.
 * Nothing is added on failure.
 */
int cdi_add_device(json_t *devices, json_t *taken, const char *name, json_t *edits);

#endif
