//! PDF documents the portal issues: generated results and the desk's printed forms (receipt
//! slip, supplement request, refusal, apology). Text is set in DejaVu Sans, embedded and
//! subset, which covers every Vietnamese letter with its tone marks; a QR code is drawn as
//! vector squares.

use printpdf::{
    Color, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions,
    Point, Pt, Rect, Rgb, TextItem,
};

const REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// One line of a document.
#[derive(Debug, Clone)]
pub enum Line {
    /// Centred heading, bold.
    Title(String),
    /// A label and its value, on one line (wrapped if long).
    Field(String, String),
    /// A paragraph, wrapped.
    Text(String),
    /// Vertical space.
    Gap,
}

/// A one-page A4 document: the issuing office at the top, the lines, and optionally a QR code
/// (with its caption) at the bottom.
#[derive(Debug, Clone)]
pub struct Document {
    pub title: String,
    pub office: String,
    pub lines: Vec<Line>,
    pub qr: Option<(String, String)>,
}

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 20.0;
/// Characters per line at 11 pt within the margins (DejaVu Sans averages about 0.55 em).
const WRAP: usize = 78;

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

fn text_at(ops: &mut Vec<Op>, font: &PdfFontHandle, size: f32, x: f32, y: f32, s: &str) {
    ops.push(Op::StartTextSection);
    ops.push(Op::SetFont {
        font: font.clone(),
        size: Pt(size),
    });
    ops.push(Op::SetTextCursor {
        pos: Point {
            x: Mm(x).into(),
            y: Mm(y).into(),
        },
    });
    ops.push(Op::ShowText {
        items: vec![TextItem::Text(s.to_string())],
    });
    ops.push(Op::EndTextSection);
}

/// Renders the document to PDF bytes.
pub fn render(doc: &Document) -> Vec<u8> {
    let mut pdf = PdfDocument::new(&doc.title);
    let mut warnings = Vec::new();
    let regular = ParsedFont::from_bytes(REGULAR, 0, &mut Vec::new())
        .map(|f| PdfFontHandle::External(pdf.add_font(&f)));
    let bold = ParsedFont::from_bytes(BOLD, 0, &mut Vec::new())
        .map(|f| PdfFontHandle::External(pdf.add_font(&f)));
    // The fonts are compiled in and parse (a unit test renders a document); a builtin font is
    // only a fallback that keeps the document readable.
    let fallback = PdfFontHandle::Builtin(printpdf::BuiltinFont::Helvetica);
    let regular = regular.unwrap_or_else(|| fallback.clone());
    let bold = bold.unwrap_or(fallback);
    let mut ops = Vec::new();
    ops.push(Op::SetFillColor {
        col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)),
    });
    let mut y = PAGE_H - MARGIN;
    // The state's header, the office, then the document.
    // Average advance: about 0.55 em for mixed text, 0.7 em for bold capitals.
    let centre = |s: &str, size: f32, em: f32| {
        let width_mm = s.chars().count() as f32 * size * em * 0.3528;
        ((PAGE_W - width_mm) / 2.0).max(MARGIN)
    };
    let motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
    text_at(&mut ops, &bold, 11.0, centre(motto, 11.0, 0.7), y, motto);
    y -= 5.5;
    let motto2 = "Độc lập - Tự do - Hạnh phúc";
    text_at(
        &mut ops,
        &regular,
        11.0,
        centre(motto2, 11.0, 0.55),
        y,
        motto2,
    );
    y -= 9.0;
    for l in wrap(&doc.office, WRAP) {
        text_at(&mut ops, &bold, 11.0, MARGIN, y, &l);
        y -= 5.5;
    }
    y -= 4.0;
    for line in &doc.lines {
        match line {
            Line::Title(t) => {
                y -= 2.0;
                for l in wrap(t, 60) {
                    text_at(&mut ops, &bold, 14.0, centre(&l, 14.0, 0.7), y, &l);
                    y -= 7.0;
                }
                y -= 2.0;
            }
            Line::Field(label, value) => {
                let text = format!("{label}: {value}");
                for l in wrap(&text, WRAP) {
                    text_at(&mut ops, &regular, 11.0, MARGIN, y, &l);
                    y -= 5.5;
                }
            }
            Line::Text(t) => {
                for l in wrap(t, WRAP) {
                    text_at(&mut ops, &regular, 11.0, MARGIN, y, &l);
                    y -= 5.5;
                }
            }
            Line::Gap => y -= 4.0,
        }
        if y < MARGIN + 45.0 {
            // One page: long texts are cut before the QR code (results are short decisions).
            break;
        }
    }
    if let Some((url, caption)) = &doc.qr
        && let Ok(code) = qrcode::QrCode::new(url.as_bytes())
    {
        let n = code.width();
        let size_mm = 35.0_f32;
        let cell = size_mm / n as f32;
        let (x0, y0) = (MARGIN, MARGIN + 5.0);
        for (i, c) in code.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (col, row) = (i % n, i / n);
                let mut r = Rect::from_xywh(
                    Mm(x0 + col as f32 * cell).into(),
                    Mm(y0 + size_mm - (row + 1) as f32 * cell).into(),
                    Mm(cell).into(),
                    Mm(cell).into(),
                );
                r.mode = Some(PaintMode::Fill);
                ops.push(Op::DrawRectangle { rectangle: r });
            }
        }
        let mut cy = y0 + size_mm - 4.0;
        for l in wrap(caption, 55) {
            text_at(&mut ops, &regular, 9.0, x0 + size_mm + 5.0, cy, &l);
            cy -= 4.5;
        }
    }
    pdf.with_pages(vec![PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops)])
        .save(&PdfSaveOptions::default(), &mut warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_with_vietnamese_text_embeds_the_font() {
        let doc = Document {
            title: "Kết quả".into(),
            office: "Ủy ban nhân dân Phường Ba Đình".into(),
            lines: vec![
                Line::Title("QUYẾT ĐỊNH".into()),
                Line::Field("Người nộp".into(), "Nguyễn Thị Hằng".into()),
                Line::Text("Đồng ý cấp giấy khai sinh. ".repeat(20)),
            ],
            qr: Some((
                "https://portal.example/verify?code=ABCDE-FGHJK".into(),
                "Mã xác thực ABCDE-FGHJK".into(),
            )),
        };
        let bytes = render(&doc);
        if let Ok(path) = std::env::var("PORTAL_PDF_SAMPLE") {
            std::fs::write(path, &bytes).expect("sample written");
        }
        assert!(bytes.starts_with(b"%PDF-"), "a PDF");
        let text = String::from_utf8_lossy(&bytes);
        // The font is embedded (a subset of DejaVu Sans), not referenced.
        assert!(text.contains("FontFile2"), "embedded TrueType font");
        assert!(
            text.contains("ToUnicode"),
            "text can be copied and searched"
        );
        assert!(bytes.len() < 200_000, "subset: {} bytes", bytes.len());
    }

    #[test]
    fn long_paragraphs_wrap_on_words() {
        let lines = wrap("một hai ba bốn năm sáu bảy tám chín mười", 12);
        assert!(lines.iter().all(|l| l.chars().count() <= 12), "{lines:?}");
        assert_eq!(lines.join(" "), "một hai ba bốn năm sáu bảy tám chín mười");
    }
}
