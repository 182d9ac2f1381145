// read_png / write_png through libpng. libpng reports errors by longjmp, so every
// libpng call runs in a function that holds only plain data (the jump then skips no
// destructor); the caller turns the saved message into a cortex::Error.
#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "cortex/io/atomic_file.h"
#include "cortex/io/image.h"
#include "cortex/io/open_file.h"
#include "host_bytes.h"

namespace cortex::io {
namespace {

constexpr std::uint64_t kMaxImageBytes = std::uint64_t{1} << 30;

struct PngContext {
  png_structp png = nullptr;
  png_infop info = nullptr;
  char message[256] = "unknown libpng error";
};

void on_error(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->message, sizeof ctx->message, "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // libpng's warnings are recoverable

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads the header and sets the transforms that turn any PNG into 8-bit grey or RGB.
bool read_header(PngContext& ctx, std::FILE* file, png_uint_32* height, png_uint_32* width, int* channels) {
  if (setjmp(png_jmpbuf(ctx.png))) return false;
  png_init_io(ctx.png, file);
  png_set_sig_bytes(ctx.png, 8);
  png_read_info(ctx.png, ctx.info);
  const int color = png_get_color_type(ctx.png, ctx.info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(ctx.png);
  if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(ctx.png, ctx.info) < 8)
    png_set_expand_gray_1_2_4_to_8(ctx.png);
  if (png_get_bit_depth(ctx.png, ctx.info) == 16) png_set_scale_16(ctx.png);
  png_set_strip_alpha(ctx.png);  // also the alpha that expanding a tRNS chunk makes
  png_set_interlace_handling(ctx.png);
  png_read_update_info(ctx.png, ctx.info);
  *height = png_get_image_height(ctx.png, ctx.info);
  *width = png_get_image_width(ctx.png, ctx.info);
  *channels = png_get_channels(ctx.png, ctx.info);
  return true;
}

bool read_rows(PngContext& ctx, png_bytepp rows) {
  if (setjmp(png_jmpbuf(ctx.png))) return false;
  png_read_image(ctx.png, rows);
  png_read_end(ctx.png, nullptr);
  return true;
}

bool write_image(PngContext& ctx, std::FILE* file, png_uint_32 height, png_uint_32 width, int color,
                 png_bytepp rows) {
  if (setjmp(png_jmpbuf(ctx.png))) return false;
  png_init_io(ctx.png, file);
  png_set_IHDR(ctx.png, ctx.info, width, height, 8, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(ctx.png, ctx.info);
  png_write_image(ctx.png, rows);
  png_write_end(ctx.png, nullptr);
  return true;
}

}  // namespace

Tensor read_png(const std::string& path) {
  std::string why;
  std::unique_ptr<std::FILE, FileCloser> file(fopen_regular_file(path, &why));  // a FIFO is refused, not waited on
  if (!file) fail("cannot open image ", path, ": ", why);
  png_byte signature[8];
  if (std::fread(signature, 1, 8, file.get()) != 8 || png_sig_cmp(signature, 0, 8) != 0)
    fail("not a PNG file: ", path);

  PngContext ctx;
  ctx.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  if (ctx.png == nullptr) fail("cannot read ", path, ": libpng could not start");
  std::unique_ptr<PngContext, void (*)(PngContext*)> guard(
      &ctx, [](PngContext* c) { png_destroy_read_struct(&c->png, &c->info, nullptr); });
  ctx.info = png_create_info_struct(ctx.png);
  if (ctx.info == nullptr) fail("cannot read ", path, ": libpng could not start");

  png_uint_32 height = 0, width = 0;
  int channels = 0;
  if (!read_header(ctx, file.get(), &height, &width, &channels)) fail("corrupt PNG file ", path, ": ", ctx.message);
  if ((channels != 1 && channels != 3) || png_get_rowbytes(ctx.png, ctx.info) != std::size_t{width} * channels)
    fail("cannot read ", path, ": expected 8-bit grey or RGB rows after conversion, found ", channels,
         " channels of ", int(png_get_bit_depth(ctx.png, ctx.info)), " bits");
  if (std::uint64_t{height} * width * channels > kMaxImageBytes)
    fail("cannot read ", path, ": a ", height, "x", width, " image is larger than the ", kMaxImageBytes,
         " bytes allowed");

  Tensor image = Tensor::empty({height, width, channels}, DType::u8);  // (H, W, C)
  std::vector<png_bytep> rows(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = image.data<std::uint8_t>() + std::size_t{y} * width * channels;
  if (!read_rows(ctx, rows.data())) fail("corrupt PNG file ", path, ": ", ctx.message);
  return image;
}

namespace {

// Checks `image` and writes it as a PNG stream to `file`; `what` names the destination.
void write_png_stream(std::FILE* file, const Tensor& image, const std::string& what) {
  check_host(image, what);
  if (image.dtype() != DType::u8) fail<DTypeError>(what, " expects a u8 image, got ", dtype_name(image.dtype()));
  if (image.dim() != 3 || (image.size(2) != 1 && image.size(2) != 3 && image.size(2) != 4) || image.numel() == 0 ||
      image.size(0) > PNG_UINT_31_MAX || image.size(1) > PNG_UINT_31_MAX)
    fail<ShapeError>(what, " expects a non-empty (H, W, C) image with C = 1, 3 or 4, got shape ",
                     shape_str(image.shape()));
  const auto height = static_cast<png_uint_32>(image.size(0)), width = static_cast<png_uint_32>(image.size(1));
  const auto channels = static_cast<std::size_t>(image.size(2));
  const int color = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;

  std::vector<std::uint8_t> scratch;
  const std::uint8_t* pixels = host_bytes(image, scratch, what);
  std::vector<png_bytep> rows(height);
  for (png_uint_32 y = 0; y < height; ++y)
    rows[y] = const_cast<png_bytep>(pixels + std::size_t{y} * width * channels);  // libpng only reads them

  PngContext ctx;
  ctx.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  if (ctx.png == nullptr) fail(what, ": libpng could not start");
  std::unique_ptr<PngContext, void (*)(PngContext*)> guard(
      &ctx, [](PngContext* c) { png_destroy_write_struct(&c->png, &c->info); });
  ctx.info = png_create_info_struct(ctx.png);
  if (ctx.info == nullptr) fail(what, ": libpng could not start");
  if (!write_image(ctx, file, height, width, color, rows.data())) fail(what, ": libpng: ", ctx.message);
}

}  // namespace

void write_png(const std::string& path, const Tensor& image) {
  write_atomically(path, [&](std::FILE* file) { write_png_stream(file, image, "write_png(" + path + ")"); });
}

std::string encode_png(const Tensor& image) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* file = open_memstream(&buffer, &size);
  if (file == nullptr) fail("encode_png: cannot open a memory stream");
  std::unique_ptr<char, void (*)(void*)> owned(nullptr, std::free);
  try {
    write_png_stream(file, image, "encode_png");
  } catch (...) {
    std::fclose(file);
    owned.reset(buffer);
    throw;
  }
  std::fclose(file);  // sets buffer and size
  owned.reset(buffer);
  return std::string(buffer, size);
}

}  // namespace cortex::io
