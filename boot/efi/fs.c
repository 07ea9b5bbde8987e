/*
 * Files on the volume the loader was started from: LoadedImage->DeviceHandle
 * and its Simple File System protocol (UEFI spec 13.4, 13.5).
 */
#include "loader.h"

/* GetInfo(EFI_FILE_INFO) of an open file into *buf. */
static EFI_STATUS fs_info(EFI_FILE_HANDLE file, union file_info_buf *buf)
{
	UINTN len = sizeof(*buf);

	return uefi_call_wrapper(file->GetInfo, 4, file, &GenericFileInfo, &len, buf);
}

/* Open \hv on the loader's volume into *dir. */
EFI_STATUS fs_open_hv_dir(EFI_HANDLE image, EFI_FILE_HANDLE *dir)
{
	EFI_LOADED_IMAGE *li;
	EFI_FILE_IO_INTERFACE *sfs;
	union file_info_buf info;
	EFI_FILE_HANDLE root;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st))
		return loader_error(st, L"no LoadedImage protocol on the loader image");
	st = uefi_call_wrapper(BS->HandleProtocol, 3, li->DeviceHandle, &FileSystemProtocol,
			       (void **)&sfs);
	if (EFI_ERROR(st))
		return loader_error(st,
				    L"no Simple File System on the device the loader came from");
	st = uefi_call_wrapper(sfs->OpenVolume, 2, sfs, &root);
	if (EFI_ERROR(st))
		return loader_error(st, L"cannot open the boot volume");
	st = uefi_call_wrapper(root->Open, 5, root, dir, L"\\hv", EFI_FILE_MODE_READ, 0ULL);
	uefi_call_wrapper(root->Close, 1, root);
	if (EFI_ERROR(st))
		return loader_error(st, L"cannot open directory \\hv on the boot volume");
	st = fs_info(*dir, &info);
	if (!EFI_ERROR(st) && !(info.info.Attribute & EFI_FILE_DIRECTORY))
		st = EFI_INVALID_PARAMETER;
	if (EFI_ERROR(st)) {
		uefi_call_wrapper((*dir)->Close, 1, *dir);
		return loader_error(st, L"\\hv on the boot volume is not a directory");
	}
	return EFI_SUCCESS;
}

/* Open dir\name for reading. Silent: a missing file is not always an error. */
EFI_STATUS fs_open(EFI_FILE_HANDLE dir, CHAR16 *name, EFI_FILE_HANDLE *file)
{
	return uefi_call_wrapper(dir->Open, 5, dir, file, name, EFI_FILE_MODE_READ, 0ULL);
}

/* Size in bytes of an open file; name is only for the message. */
EFI_STATUS fs_size(EFI_FILE_HANDLE file, CHAR16 *name, UINT64 *size)
{
	union file_info_buf buf;
	EFI_STATUS st;

	st = fs_info(file, &buf);
	if (EFI_ERROR(st))
		return loader_error(st, L"cannot get the size of \\hv\\%s", name);
	if (buf.info.Attribute & EFI_FILE_DIRECTORY)
		return loader_error(EFI_INVALID_PARAMETER, L"\\hv\\%s is a directory", name);
	*size = buf.info.FileSize;
	return EFI_SUCCESS;
}

/* Read exactly size bytes from the current position of file into buf. */
EFI_STATUS fs_read(EFI_FILE_HANDLE file, CHAR16 *name, void *buf, UINT64 size)
{
	u8 *p = buf;

	while (size > 0) {
		UINTN chunk = size;
		EFI_STATUS st = uefi_call_wrapper(file->Read, 3, file, &chunk, p);

		if (EFI_ERROR(st))
			return loader_error(st, L"cannot read \\hv\\%s", name);
		if (chunk == 0)
			return loader_error(EFI_END_OF_FILE, L"\\hv\\%s shorter than its size",
					    name);
		p += chunk;
		size -= chunk;
	}
	return EFI_SUCCESS;
}

/*
 * Read all of dir\name into pool memory; the caller FreePool()s *buf.
 * EFI_NOT_FOUND without a message if the file does not exist.
 */
EFI_STATUS fs_read_pool(EFI_FILE_HANDLE dir, CHAR16 *name, void **buf, UINT64 *size)
{
	EFI_FILE_HANDLE file;
	EFI_STATUS st;

	st = fs_open(dir, name, &file);
	if (st == EFI_NOT_FOUND)
		return st;
	if (EFI_ERROR(st))
		return loader_error(st, L"cannot open \\hv\\%s", name);
	st = fs_size(file, name, size);
	if (EFI_ERROR(st))
		goto out;
	st = uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData, *size ? *size : 1, buf);
	if (EFI_ERROR(st)) {
		loader_error(st, L"no memory to read \\hv\\%s (%ld bytes)", name, *size);
		goto out;
	}
	st = fs_read(file, name, *buf, *size);
	if (EFI_ERROR(st))
		uefi_call_wrapper(BS->FreePool, 1, *buf);
out:
	uefi_call_wrapper(file->Close, 1, file);
	return st;
}
